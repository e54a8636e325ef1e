//! Programs some tests run beside the crate: Prism, a mock server that checks every request
//! against an OpenAPI definition; axe-core, the accessibility checker run in a browser; and a
//! Python environment with Twilio's own library and Prometheus' Python client, whose parser
//! reads the metrics as Prometheus would.
//!
//! Each is installed once per checkout under `target/test-tools/` by its registry's ordinary
//! client (npm, pip), behind an exclusive file lock, so test processes running in parallel
//! wait for one install instead of racing. A missing npm or Python fails the test: nothing
//! here is skipped quietly.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The Prism release the definition in `tests/corpus/twilio/` was prepared for.
pub const PRISM_VERSION: &str = "5.14.2";
/// The axe-core release (npm `axe-core`) that checks the HTML report's accessibility.
pub const AXE_CORE_VERSION: &str = "4.14.1";
/// The release of Twilio's Python library (PyPI `twilio`) put in the environment.
pub const TWILIO_PYTHON_VERSION: &str = "9.13.0";
/// The release of Prometheus' Python client (PyPI `prometheus-client`) put in the environment.
pub const PROMETHEUS_PYTHON_VERSION: &str = "0.23.1";

/// A `prism` executable: `DIALER_PRISM` if set, else `@stoplight/prism-cli` installed
/// with npm into `target/test-tools/prism` on first use.
pub fn prism() -> PathBuf {
    if let Some(given) = std::env::var_os("DIALER_PRISM").filter(|v| !v.is_empty()) {
        return PathBuf::from(given);
    }
    let prefix = tools_dir().join("prism");
    let bin = prefix
        .join("node_modules")
        .join(".bin")
        .join(if cfg!(windows) { "prism.cmd" } else { "prism" });
    let marker = prefix.join(format!("installed-{PRISM_VERSION}"));
    install_once("prism", &marker, || {
        npm_install(
            &prefix,
            &format!("@stoplight/prism-cli@{PRISM_VERSION}"),
            "Node.js 18.20 or later with npm (or set DIALER_PRISM)",
        )
    });
    assert!(
        bin.exists(),
        "npm reported success but {} is missing",
        bin.display()
    );
    bin
}

/// axe-core's `axe.min.js`, installed with npm into `target/test-tools/axe` on first use.
pub fn axe_core() -> PathBuf {
    let prefix = tools_dir().join("axe");
    let script = prefix.join("node_modules/axe-core/axe.min.js");
    let marker = prefix.join(format!("installed-{AXE_CORE_VERSION}"));
    install_once("axe", &marker, || {
        npm_install(
            &prefix,
            &format!("axe-core@{AXE_CORE_VERSION}"),
            "Node.js with npm",
        )
    });
    assert!(
        script.exists(),
        "npm reported success but {} is missing",
        script.display()
    );
    script
}

/// The `python` of a virtual environment in `target/test-tools/pyvenv` holding PyPI's
/// `twilio` and `prometheus-client`, made on first use.
pub fn python() -> PathBuf {
    let venv = tools_dir().join("pyvenv");
    let python = if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    };
    let packages = [
        format!("twilio=={TWILIO_PYTHON_VERSION}"),
        format!("prometheus-client=={PROMETHEUS_PYTHON_VERSION}"),
    ];
    let marker = venv.join(format!("installed-{}", packages.join("-")));
    install_once("pyvenv", &marker, || {
        let mut make_venv = Command::new(if cfg!(windows) { "python" } else { "python3" });
        make_venv.args(["-m", "venv", "--clear"]).arg(&venv);
        run(
            "creating a Python virtual environment",
            &mut make_venv,
            "Python 3.8 or later with its venv module",
        );
        let mut pip = Command::new(&python);
        pip.args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
        ])
        .args(&packages);
        run(
            &format!("installing {}", packages.join(" ")),
            &mut pip,
            "pip inside the virtual environment",
        );
    });
    python
}

/// `npm install package` into `prefix`, panicking with `needs` if npm is missing.
fn npm_install(prefix: &Path, package: &str, needs: &str) {
    fs::create_dir_all(prefix)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", prefix.display()));
    let mut npm = Command::new(if cfg!(windows) { "npm.cmd" } else { "npm" });
    npm.args([
        "install",
        "--no-save",
        "--no-audit",
        "--no-fund",
        "--prefix",
    ])
    .arg(prefix)
    .arg(package);
    run(&format!("installing {package}"), &mut npm, needs);
}

fn tools_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("test-tools")
}

/// Runs `install` unless `marker` exists, holding `target/test-tools/<name>.lock`
/// exclusively meanwhile; writes `marker` once `install` has returned.
fn install_once(name: &str, marker: &Path, install: impl FnOnce()) {
    let dir = tools_dir();
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let lock_path = dir.join(format!("{name}.lock"));
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", lock_path.display()));
    lock.lock()
        .unwrap_or_else(|e| panic!("cannot lock {}: {e}", lock_path.display()));
    if !marker.exists() {
        install();
        fs::write(marker, "").unwrap_or_else(|e| panic!("cannot write {}: {e}", marker.display()));
    }
}

/// Runs `command` with its output on stderr; panics naming `needs` if the program is missing.
fn run(what: &str, command: &mut Command, needs: &str) {
    // Straight to stderr, past the test harness's capture: an install shows while it runs.
    let _ = writeln!(io::stderr(), "test tools: {what}: {command:?}");
    let status = command
        .stdin(Stdio::null())
        .stdout(io::stderr())
        .status()
        .unwrap_or_else(|e| match e.kind() {
            io::ErrorKind::NotFound => panic!(
                "{what}: {:?} was not found; this test needs {needs}",
                command.get_program()
            ),
            _ => panic!("{what}: cannot start {:?}: {e}", command.get_program()),
        });
    assert!(
        status.success(),
        "{what} failed ({status}); see the output above"
    );
}
