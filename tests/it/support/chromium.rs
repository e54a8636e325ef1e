//! Headless Chromium, to look at a page as a person's browser shows it: a screenshot (decoded
//! here, to count what was drawn), the DOM after parsing, and what axe-core finds wrong in it
//! for accessibility. Debian's `chromium` package, or the program `DIALER_CHROMIUM` names. A
//! missing browser fails the test, saying how to get one.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const INSTALL_HINT: &str = "headless Chromium renders the HTML report in this test: install it \
     (Debian/Ubuntu: `apt-get install -y --no-install-recommends chromium`; `.ci/run` does) or \
     set DIALER_CHROMIUM to a Chromium or Chrome executable";

/// `DIALER_CHROMIUM`, else `chromium` or `chromium-browser` on PATH.
pub fn chromium() -> PathBuf {
    if let Some(given) = std::env::var_os("DIALER_CHROMIUM").filter(|v| !v.is_empty()) {
        let given = PathBuf::from(given);
        assert!(
            given.exists(),
            "DIALER_CHROMIUM={} does not exist; {INSTALL_HINT}",
            given.display()
        );
        return given;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    ["chromium", "chromium-browser"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("no chromium or chromium-browser on PATH; {INSTALL_HINT}"))
}

/// What a browser made of a page.
pub struct Rendered {
    pub dom: String,
    pub screenshot: Screenshot,
}

pub struct Screenshot {
    pub width: u32,
    pub height: u32,
    /// RGB, row after row.
    pub pixels: Vec<[u8; 3]>,
}

impl Screenshot {
    pub fn count(&self, color: [u8; 3]) -> usize {
        self.pixels.iter().filter(|p| **p == color).count()
    }

    pub fn distinct_colors(&self) -> usize {
        let mut colors: Vec<[u8; 3]> = self.pixels.clone();
        colors.sort_unstable();
        colors.dedup();
        colors.len()
    }
}

/// Opens `page` (a file) in a window `width` × `height`, offline: no network, no extension,
/// a profile of its own in `scratch`.
pub fn render(page: &Path, (width, height): (u32, u32), scratch: &Path) -> Rendered {
    let browser = chromium();
    let url = format!(
        "file://{}",
        page.canonicalize().expect("the page exists").display()
    );
    let png = scratch.join("screenshot.png");
    let base = |profile: &str| {
        let mut cmd = Command::new(&browser);
        cmd.args(HEADLESS)
            .arg(format!(
                "--user-data-dir={}",
                scratch.join(profile).display()
            ))
            .arg(format!("--window-size={width},{height}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    };
    let mut shot = base("profile-screenshot");
    shot.arg(format!("--screenshot={}", png.display()))
        .arg(&url);
    run(&browser, shot);
    let mut dump = base("profile-dom");
    dump.arg("--dump-dom").arg(&url);
    let dom = String::from_utf8_lossy(&run(&browser, dump).stdout).into_owned();
    Rendered {
        dom,
        screenshot: decode(&png),
    }
}

/// axe-core's violations on `page` (every rule of the release, WCAG 2 A and AA among them), as
/// `rule: help (impact) at TARGET: why` lines; empty when it finds none. The page is copied to
/// `scratch` with axe and a script that writes the results into the DOM, which Chromium dumps
/// once the scripts have run.
pub fn accessibility_violations(page: &Path, scratch: &Path) -> Vec<String> {
    let axe = std::fs::read_to_string(super::tools::axe_core()).expect("axe.min.js reads");
    let html = std::fs::read_to_string(page).expect("the page reads");
    let checker = format!(
        "<script>{axe}</script>\n<script>{AXE_RUN}</script>\n</body>",
        axe = axe.replace("</script", "<\\/script")
    );
    assert!(html.contains("</body>"), "the page has no </body>");
    let checked = scratch.join("axe-checked.html");
    std::fs::write(&checked, html.replacen("</body>", &checker, 1)).expect("the copy writes");
    let url = format!("file://{}", checked.canonicalize().unwrap().display());
    let browser = chromium();
    let mut dump = Command::new(&browser);
    dump.args(HEADLESS)
        .arg(format!(
            "--user-data-dir={}",
            scratch.join("profile-axe").display()
        ))
        .args([
            "--window-size=1200,3600",
            "--virtual-time-budget=30000",
            "--dump-dom",
        ])
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let dom = String::from_utf8_lossy(&run(&browser, dump).stdout).into_owned();
    let results = dom
        .split_once("<pre id=\"axe-results\">")
        .and_then(|(_, rest)| rest.split_once("</pre>"))
        .map(|(json, _)| {
            json.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&nbsp;", "\u{a0}")
                .replace("&amp;", "&")
        })
        .unwrap_or_else(|| panic!("axe-core wrote no results into the page: {dom}"));
    let violations: Vec<serde_json::Value> =
        serde_json::from_str(&results).unwrap_or_else(|e| panic!("{e}: {results}"));
    violations
        .iter()
        .flat_map(|rule| {
            let name = format!("{}: {} ({})", rule["id"], rule["help"], rule["impact"]);
            let nodes = rule["nodes"].as_array().cloned().unwrap_or_default();
            nodes
                .into_iter()
                .map(move |node| format!("{name} at {node}"))
        })
        .collect()
}

/// Runs axe-core on the page and writes its violations, as JSON, into `<pre id=axe-results>`.
const AXE_RUN: &str = r#"
axe.run(document).then(
  (results) => results.violations.map((rule) => ({
    id: rule.id, help: rule.help, impact: rule.impact,
    nodes: rule.nodes.map((node) => node.target.join(" ") + ": " + node.failureSummary),
  })),
  (error) => [{ id: "axe-error", help: String(error), impact: "none", nodes: [""] }],
).then((violations) => {
  const pre = document.createElement("pre");
  pre.id = "axe-results";
  pre.textContent = JSON.stringify(violations);
  document.body.appendChild(pre);
});
"#;

const HEADLESS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-extensions",
    "--no-first-run",
    "--hide-scrollbars",
];

fn run(browser: &Path, mut cmd: Command) -> Output {
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("{} does not start ({e}); {INSTALL_HINT}", browser.display()));
    // Drained while it runs (a DOM is larger than a pipe holds), and killed if it hangs.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait().expect("the browser's status") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            _ = child.kill();
            panic!("{} did not finish within 90 s", browser.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = Output {
        status,
        stdout: stdout.join().expect("stdout read"),
        stderr: stderr.join().expect("stderr read"),
    };
    assert!(
        out.status.success(),
        "{} failed ({}): {}",
        browser.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn decode(png_file: &Path) -> Screenshot {
    let file = std::fs::File::open(png_file)
        .unwrap_or_else(|e| panic!("no screenshot at {}: {e}", png_file.display()));
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a PNG of sane size")];
    let info = reader.next_frame(&mut buf).expect("a PNG frame");
    let channels = info.color_type.samples();
    let pixels = buf[..info.buffer_size()]
        .chunks_exact(channels)
        .map(|p| match channels {
            1 | 2 => [p[0]; 3],
            _ => [p[0], p[1], p[2]],
        })
        .collect();
    Screenshot {
        width: info.width,
        height: info.height,
        pixels,
    }
}
