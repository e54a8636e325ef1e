//! A real terminal for tests of what a person sees: one command in a detached tmux pane of a
//! given size, on a tmux server of its own, read back screen by screen with `capture-pane`.
//! A missing tmux fails the test (nothing is skipped quietly); the server, and the command
//! with it, is killed when the `Tmux` is dropped, a failed test included.

use std::io;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use tempfile::TempDir;

pub struct Tmux {
    socket: String,
    /// Where the server listens; tmux leaves it behind when killed.
    socket_path: Option<PathBuf>,
    exit_file: PathBuf,
    _dir: TempDir,
}

impl Tmux {
    /// Starts `command` (its program, arguments and environment) in a `width`×`height` pane.
    pub fn start(command: &Command, width: u16, height: u16) -> Self {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let socket = format!(
            "dialer-test-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let exit_file = dir.path().join("exit");
        let mut tmux = tmux(&socket);
        // The server, and the pane's command with it, gets this client's environment.
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => tmux.env(key, value),
                None => tmux.env_remove(key),
            };
        }
        tmux.env_remove("TMUX")
            .args([
                "new-session",
                "-d",
                "-P",
                "-F",
                "#{socket_path}",
                "-s",
                "test",
                "-x",
            ])
            .arg(width.to_string())
            .arg("-y")
            .arg(height.to_string())
            // The pane stays after the command ends, for the last screen, and says how it ended;
            // Ctrl-C interrupts the command, not the shell that waits for it (the trap's `:`).
            .args([
                "sh",
                "-c",
                r#"trap : INT; exit_file=$1; shift; "$@"; echo $? > "$exit_file"; exec sleep 600"#,
                "sh",
            ])
            .arg(&exit_file)
            .arg(command.get_program())
            .args(command.get_args());
        // Owned before it runs, so that a server started by a failing command is still killed.
        let mut started = Self {
            socket,
            socket_path: None,
            exit_file,
            _dir: dir,
        };
        let out = tmux.output().unwrap_or_else(|e| match e.kind() {
            io::ErrorKind::NotFound => {
                panic!("tmux was not found; this test needs tmux 3.0 or later on PATH")
            }
            _ => panic!("cannot start tmux: {e}"),
        });
        assert!(out.status.success(), "tmux new-session failed: {out:?}");
        let socket_path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        started.socket_path = Some(socket_path.into());
        started
    }

    /// The pane's screen as it is now, one string per row, without the blank rows below.
    pub async fn screen(&self) -> Vec<String> {
        let out = tokio::process::Command::from(tmux(&self.socket))
            .args(["capture-pane", "-p", "-t", "test"])
            .output()
            .await
            .expect("tmux capture-pane runs");
        assert!(out.status.success(), "tmux capture-pane failed: {out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        text.trim_end().lines().map(str::to_owned).collect()
    }

    /// Types `keys` into the pane, as tmux names them (`C-c` is Ctrl-C).
    pub fn send_keys(&self, keys: &str) {
        let out = tmux(&self.socket)
            .args(["send-keys", "-t", "test", keys])
            .output()
            .expect("tmux send-keys runs");
        assert!(out.status.success(), "tmux send-keys failed: {out:?}");
    }

    /// The command's exit code, once it has ended.
    pub fn exit_code(&self) -> Option<i32> {
        let text = std::fs::read_to_string(&self.exit_file).ok()?;
        text.trim().parse().ok()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = tmux(&self.socket)
            .arg("kill-server")
            .stderr(Stdio::null())
            .status();
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// `tmux` on `socket`, without the user's configuration.
fn tmux(socket: &str) -> Command {
    let mut tmux = Command::new("tmux");
    tmux.args(["-L", socket, "-f", "/dev/null"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    tmux
}
