// Migrations are embedded with `sqlx::migrate!`: rebuild when they change. `--version` names
// the commit the binary was built from (`DIALER_COMMIT` if set, as a packager may; else git's
// HEAD; else "unknown", as in a source tarball), so git's HEAD and the branch it points at
// are watched.
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-env-changed=DIALER_COMMIT");
    let commit = std::env::var("DIALER_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=DIALER_COMMIT={commit}");
    for watched in ["HEAD".to_owned()]
        .into_iter()
        .chain(git(&["symbolic-ref", "-q", "HEAD"]))
    {
        // A missing file would make every build run this again: watch only what exists.
        if let Some(path) = git(&["rev-parse", "--git-path", &watched])
            .filter(|path| std::path::Path::new(path).exists())
        {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}

/// git's answer, trimmed; `None` without git or outside a repository.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}
