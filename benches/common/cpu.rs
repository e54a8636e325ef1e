//! The CPU time processes have used, from `/proc/<pid>/stat` (Linux): a bench's own workers,
//! or a server and every process it started.

/// What `/proc/<pid>/stat` says of a process: its parent, its own CPU time (user + system),
/// and that of its children it has waited for, in seconds.
struct ProcStat {
    parent: u32,
    own_secs: f64,
    reaped_secs: f64,
}

fn proc_stat(pid: u32) -> Option<ProcStat> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces: the fields start after its end.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |field: usize| fields.get(field)?.parse::<u64>().ok();
    let per_sec = clock_ticks_per_sec();
    Some(ProcStat {
        parent: fields.get(1)?.parse().ok()?,
        own_secs: (ticks(11)? + ticks(12)?) as f64 / per_sec,
        reaped_secs: (ticks(13)? + ticks(14)?) as f64 / per_sec,
    })
}

/// `getconf CLK_TCK`, the unit of `/proc/<pid>/stat`'s times (100 almost everywhere).
fn clock_ticks_per_sec() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// CPU seconds the processes `pids` have used so far (0 for one that is gone).
pub fn cpu_secs(pids: &[u32]) -> f64 {
    pids.iter()
        .filter_map(|pid| proc_stat(*pid))
        .map(|stat| stat.own_secs)
        .sum()
}

/// CPU seconds a server of processes has used so far: its parent `root`'s, its live
/// children's, and those of children already gone (a parent counts them once it reaps them,
/// as PostgreSQL's postmaster reaps its backends).
pub fn process_tree_cpu_secs(root: u32) -> f64 {
    let Some(parent) = proc_stat(root) else {
        return 0.0;
    };
    let children: f64 = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(proc_stat)
        .filter(|stat| stat.parent == root)
        .map(|stat| stat.own_secs)
        .sum();
    parent.own_secs + parent.reaped_secs + children
}

/// The parent of process `pid`, while it runs.
pub fn parent_of(pid: u32) -> Option<u32> {
    proc_stat(pid).map(|stat| stat.parent)
}
