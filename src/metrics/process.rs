//! Process-wide series for a long-running command's `/metrics`: which build runs
//! (`dialer_build_info`, as `--version` says), and Prometheus' standard process metrics read
//! from Linux's `/proc` at each scrape (none elsewhere). A small collector rather than the
//! `prometheus` crate's, which would bring `procfs` and its dependencies for five numbers.

use super::{FAMILIES, registered};
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{Gauge, IntGauge, IntGaugeVec, Opts};
use std::sync::Once;

/// The kernel's clock ticks per second in `/proc/<pid>/stat` (USER_HZ, fixed by its ABI).
const TICKS_PER_SECOND: f64 = 100.0;

/// Registers the build's and the process's series, once per process.
pub(super) fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let info = registered(
            &FAMILIES.registry,
            IntGaugeVec::new(
                Opts::new(
                    "dialer_build_info",
                    "Always 1: the version and commit this process was built from (`dialer --version`).",
                ),
                &["version", "commit"],
            ),
        );
        info.with_label_values(&[env!("CARGO_PKG_VERSION"), env!("DIALER_COMMIT")])
            .set(1);
        let _ = registered(&FAMILIES.registry, Ok(ProcessCollector::new()));
    });
}

#[derive(Clone)]
struct ProcessCollector {
    cpu: Gauge,
    resident: IntGauge,
    start: Gauge,
    open_fds: IntGauge,
    threads: IntGauge,
    descs: Vec<Desc>,
}

impl ProcessCollector {
    fn new() -> Self {
        // Constant names and help texts: a failure is a bug, found by any test.
        let gauge = |name: &str, help: &str| Gauge::with_opts(Opts::new(name, help)).expect(name);
        let int = |name: &str, help: &str| IntGauge::with_opts(Opts::new(name, help)).expect(name);
        let cpu = gauge(
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
        );
        let resident = int(
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
        );
        let start = gauge(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
        );
        let open_fds = int("process_open_fds", "Number of open file descriptors.");
        let threads = int("process_threads", "Number of OS threads in the process.");
        let descs = [cpu.desc(), resident.desc(), start.desc()]
            .into_iter()
            .chain([open_fds.desc(), threads.desc()])
            .flatten()
            .cloned()
            .collect();
        Self {
            cpu,
            resident,
            start,
            open_fds,
            threads,
            descs,
        }
    }
}

impl Collector for ProcessCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let Some(stat) = Stat::read() else {
            return Vec::new();
        };
        self.cpu.set(stat.cpu_ticks as f64 / TICKS_PER_SECOND);
        self.resident.set(stat.resident_bytes);
        self.start
            .set(stat.boot_seconds + stat.start_ticks as f64 / TICKS_PER_SECOND);
        self.threads.set(stat.threads);
        let fds = std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count);
        self.open_fds.set(i64::try_from(fds).unwrap_or(i64::MAX));
        [
            self.cpu.collect(),
            self.resident.collect(),
            self.start.collect(),
            self.open_fds.collect(),
            self.threads.collect(),
        ]
        .concat()
    }
}

/// What `/proc` says of this process.
struct Stat {
    cpu_ticks: u64,
    start_ticks: u64,
    threads: i64,
    resident_bytes: i64,
    boot_seconds: f64,
}

impl Stat {
    fn read() -> Option<Self> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let system = std::fs::read_to_string("/proc/stat").ok()?;
        Self::parse(&stat, &status, &system)
    }

    /// `stat`'s fields after the command name (which may hold spaces and parentheses), counted
    /// from 3 as in proc(5): utime 14, stime 15, num_threads 20, starttime 22.
    fn parse(stat: &str, status: &str, system: &str) -> Option<Self> {
        let after_name = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
        let kib = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse::<i64>()
            .ok()?;
        let boot = system
            .lines()
            .find_map(|line| line.strip_prefix("btime "))?
            .trim()
            .parse::<f64>()
            .ok()?;
        Some(Self {
            cpu_ticks: field(14)? + field(15)?,
            start_ticks: field(22)?,
            threads: i64::try_from(field(20)?).ok()?,
            resident_bytes: kib * 1024,
            boot_seconds: boot,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_files_are_read_past_a_command_name_holding_spaces_and_parentheses() {
        let stat = "4242 (dial (er) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 7 0 123456 1000 20 0";
        let status = "Name:\tdialer\nVmRSS:\t   2048 kB\nThreads:\t7\n";
        let system = "cpu  1 2 3\nbtime 1764900000\nprocesses 9\n";

        let parsed = Stat::parse(stat, status, system).expect("parsed");

        assert_eq!(parsed.cpu_ticks, 300);
        assert_eq!(parsed.threads, 7);
        assert_eq!(parsed.start_ticks, 123456);
        assert_eq!(parsed.resident_bytes, 2048 * 1024);
        assert_eq!(parsed.boot_seconds, 1764900000.0);
    }

    #[test]
    fn this_process_is_measured_on_linux() {
        if cfg!(target_os = "linux") {
            let stat = Stat::read().expect("/proc is read");
            assert!(stat.resident_bytes > 0 && stat.threads >= 1);
        }
    }
}
