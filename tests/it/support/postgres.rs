//! A real PostgreSQL server for the tests of the shared-database backend: the schedule's SQL
//! is only believed once a real server has run it, under real row locks and a real clock.
//!
//! One server per test process, started on first use from the machine's own PostgreSQL
//! programs (the newest `/usr/lib/postgresql/<version>/bin`, or `DIALER_PG_BIN`), in a
//! temporary folder, on a free loopback port, trusting local connections. Each test gets a
//! database of its own from `fresh_database()`. A test that stops or restarts a server makes
//! its own with `PgServer::start()`, so that tests running beside it are not disturbed.
//!
//! `initdb` refuses to run as root, and CI runs the tests as root: then every server program
//! runs as the `postgres` user (`runuser -u postgres --`), in a folder given to that user.
//!
//! A server that cannot start fails the test that asked for it, saying why: nothing here is
//! skipped quietly.

use dialer::domain::DatabaseUrl;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

/// Where Debian and Ubuntu install each PostgreSQL version's server programs.
const VERSIONS_DIR: &str = "/usr/lib/postgresql";
/// The user that runs the server programs when the tests run as root.
const SERVER_USER: &str = "postgres";
/// Attempts at a free port: another process may bind the one found before the server does.
const PORT_ATTEMPTS: u32 = 3;

/// Stops the server and removes its folder once the pipe on its standard input closes, which
/// the kernel does when the test process ends, however it ends (a normal exit, a panic, a
/// SIGKILL). Statics are never dropped and `atexit` would need `libc`: a process that waits
/// for that end-of-file covers every way out, without polling a pid that may be reused.
/// It ignores the Ctrl-C that stops `cargo test`, which reaches its whole process group.
/// Arguments: the folder, then the command that stops the server.
const WATCHDOG: &str = r#"trap '' INT HUP TERM
cat >/dev/null
dir=$1
shift
"$@" >/dev/null 2>&1
rm -rf "$dir""#;

static NEXT_DATABASE: AtomicU32 = AtomicU32::new(1);

/// A database of its own for one test, on the shared server.
pub async fn fresh_database() -> PgTestDb {
    PgServer::shared().fresh_database().await
}

/// A database made for one test; it goes with the server.
#[derive(Debug, Clone)]
pub struct PgTestDb {
    /// `postgres://postgres@127.0.0.1:PORT/t_N`
    pub url: String,
}

impl PgTestDb {
    pub fn database_url(&self) -> DatabaseUrl {
        DatabaseUrl::parse(&self.url).unwrap()
    }

    /// A pool of the test's own on the database, to set up by hand what only time or another
    /// host would do.
    pub async fn pool(&self) -> sqlx::PgPool {
        sqlx::PgPool::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", self.url))
    }
}

pub struct PgServer {
    bin: PathBuf,
    /// Everything of this server: `data/`, its socket, `server.log`.
    dir: PathBuf,
    port: u16,
    /// Runs the server programs as `SERVER_USER` (the tests run as root).
    as_server_user: bool,
    /// Stops and removes the server when its stdin closes: see `WATCHDOG`.
    watchdog: Child,
}

impl PgServer {
    /// The server of this test process, started on first use.
    pub fn shared() -> &'static PgServer {
        static SHARED: OnceLock<PgServer> = OnceLock::new();
        SHARED.get_or_init(PgServer::start)
    }

    /// A server of one's own: initialized, started, and stopped and removed when dropped.
    pub fn start() -> PgServer {
        let started = Instant::now();
        let bin = bin_dir();
        let as_server_user = running_as_root();
        let dir = tempfile::Builder::new()
            .prefix("dialer-pg-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot make a folder for PostgreSQL: {e}"))
            .keep();
        let mut server = PgServer {
            watchdog: watchdog(&dir, &bin, as_server_user),
            bin,
            dir,
            port: 0,
            as_server_user,
        };
        if as_server_user {
            give_to_server_user(&server.dir);
        }
        server.init();
        for attempt in 1..=PORT_ATTEMPTS {
            server.port = free_port();
            match server.try_start() {
                Ok(()) => break,
                Err(why) if attempt < PORT_ATTEMPTS && why.contains("already in use") => {}
                Err(why) => panic!("PostgreSQL did not start: {why}"),
            }
        }
        eprintln!(
            "test PostgreSQL ({}) ready on port {} in {} ms{}",
            server.bin.display(),
            server.port,
            started.elapsed().as_millis(),
            if as_server_user {
                " (as the postgres user)"
            } else {
                ""
            }
        );
        server
    }

    /// The URL of `database` on this server, as the superuser.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    pub async fn fresh_database(&self) -> PgTestDb {
        let name = format!("t_{}", NEXT_DATABASE.fetch_add(1, Ordering::Relaxed));
        let admin_url = self.url("postgres");
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {admin_url}: {e}"));
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create the database {name}: {e}"));
        admin.close().await.ok();
        PgTestDb {
            url: self.url(&name),
        }
    }

    /// Stops the server at once, as a crash would (`-m immediate`): connections drop.
    pub fn stop(&self) {
        let out = output(self.pg_ctl().args(["stop", "-m", "immediate"]));
        assert!(
            out.status.success(),
            "pg_ctl stop failed: {}",
            describe(&out)
        );
    }

    /// Starts the stopped server again, on the same port.
    pub fn start_again(&self) {
        if let Err(why) = self.try_start() {
            panic!("PostgreSQL did not start again: {why}");
        }
    }

    pub fn restart(&self) {
        self.stop();
        self.start_again();
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn init(&self) {
        let out = output(
            self.command("initdb")
                .arg("-D")
                .arg(self.data())
                .args(["-U", "postgres", "--auth=trust", "--encoding=UTF8"])
                .args(["--no-locale", "--no-sync"]),
        );
        assert!(out.status.success(), "initdb failed: {}", describe(&out));
    }

    /// `pg_ctl start`, waiting until the server accepts connections; the reason and the end
    /// of the server's log if it does not.
    fn try_start(&self) -> Result<(), String> {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k '{}' -c fsync=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log");
        let out = output(
            self.pg_ctl()
                .args(["start", "-w", "-t", "60", "-l"])
                .arg(&log)
                .arg("-o")
                .arg(options),
        );
        if out.status.success() {
            return Ok(());
        }
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        Err(format!(
            "{}\nend of the server's log:\n{}",
            describe(&out),
            lines[lines.len().saturating_sub(15)..].join("\n")
        ))
    }

    /// `pg_ctl -D <data>`, to which the caller adds its action.
    fn pg_ctl(&self) -> Command {
        let mut command = self.command("pg_ctl");
        command.arg("-D").arg(self.data());
        command
    }

    /// One of the server programs, in the server's folder, as the server user when the
    /// tests run as root.
    fn command(&self, program: &str) -> Command {
        let mut command = server_command(&self.bin.join(program), self.as_server_user);
        command.current_dir(&self.dir).stdin(Stdio::null());
        command
    }
}

fn output(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
}

/// A server of one's own is gone when its test ends; the shared one, never dropped, when the
/// process ends.
impl Drop for PgServer {
    fn drop(&mut self) {
        drop(self.watchdog.stdin.take());
        let _ = self.watchdog.wait();
    }
}

/// `program`, directly or through `runuser -u postgres --`.
fn server_command(program: &Path, as_server_user: bool) -> Command {
    if as_server_user {
        let mut command = Command::new("runuser");
        command.args(["-u", SERVER_USER, "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// `DIALER_PG_BIN`, else the `bin` folder of the newest PostgreSQL version installed.
fn bin_dir() -> PathBuf {
    if let Some(given) = std::env::var_os("DIALER_PG_BIN").filter(|v| !v.is_empty()) {
        let given = PathBuf::from(given);
        assert!(
            given.join("initdb").is_file(),
            "DIALER_PG_BIN is {}, which has no initdb",
            given.display()
        );
        return given;
    }
    let entries = std::fs::read_dir(VERSIONS_DIR).into_iter().flatten();
    entries
        .flatten()
        .filter_map(|entry| {
            let version: Vec<u32> = entry
                .file_name()
                .to_str()?
                .split('.')
                .map(|part| part.parse().ok())
                .collect::<Option<_>>()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .max()
        .map(|(_, bin)| bin)
        .unwrap_or_else(|| {
            panic!(
                "these tests need PostgreSQL's server programs, and no {VERSIONS_DIR}/<version>/bin \
                 holds initdb: install them (Debian: apt-get install postgresql) or set \
                 DIALER_PG_BIN to the folder holding initdb and pg_ctl"
            )
        })
}

fn running_as_root() -> bool {
    let out = Command::new("id")
        .arg("-u")
        .output()
        .unwrap_or_else(|e| panic!("cannot run id -u: {e}"));
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

fn give_to_server_user(dir: &Path) {
    let out = Command::new("chown")
        .arg(format!("{SERVER_USER}:"))
        .arg(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run chown: {e}"));
    assert!(
        out.status.success(),
        "cannot give {} to the {SERVER_USER} user (initdb refuses to run as root): {}",
        dir.display(),
        describe(&out)
    );
}

/// Starts the `WATCHDOG` of the server in `dir`, with a pipe on its stdin.
fn watchdog(dir: &Path, bin: &Path, as_server_user: bool) -> Child {
    let stop = server_command(&bin.join("pg_ctl"), as_server_user);
    Command::new("sh")
        .args(["-c", WATCHDOG, "sh"])
        .arg(dir)
        .arg(stop.get_program())
        .args(stop.get_args())
        .arg("-D")
        .arg(dir.join("data"))
        .args(["stop", "-m", "immediate"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the watchdog shell of PostgreSQL: {e}"))
}

/// A loopback port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or_else(|e| panic!("cannot find a free port: {e}"))
}

fn describe(out: &Output) -> String {
    format!(
        "{}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
