//! Running benchmark children: reaping them with a time limit and reading their peak memory
//! (`wait4`), and summarising figures. Shared by `compare` and `lox-compare`.

use std::time::Instant;

/// The status reported for a child killed at its time limit.
pub const TIMED_OUT: i32 = -2;

/// What `wait4` reports about a reaped child.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reaped {
    /// Exit status ([`TIMED_OUT`] when killed at the time limit, -1 when killed by a signal).
    pub status: i32,
    /// Peak resident memory, MB.
    pub peak_rss_mb: f64,
    /// Minor page faults (`ru_minflt`): pages the kernel had to map in, zero-filled or not.
    pub minor_faults: u64,
}

/// Reaps the child (killing it once `timeout` seconds have passed) and returns its exit status
/// and peak resident memory in MB.
pub fn wait_with_peak_rss(pid: u32, timeout: f64) -> Result<(i32, f64), String> {
    reap(pid, timeout).map(|r| (r.status, r.peak_rss_mb))
}

/// Reaps the child (killing it once `timeout` seconds have passed) and returns what `wait4`
/// says about it.
pub fn reap(pid: u32, timeout: f64) -> Result<Reaped, String> {
    let deadline = Instant::now() + std::time::Duration::from_secs_f64(timeout.max(0.0));
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills in; zeroed is a valid value for it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut killed = false;
    loop {
        // SAFETY: pid is our own unreaped child; both pointers are valid for writes.
        let reaped =
            unsafe { libc::wait4(pid as libc::pid_t, &mut status, libc::WNOHANG, &mut usage) };
        if reaped < 0 {
            return Err(format!("wait4: {}", std::io::Error::last_os_error()));
        }
        if reaped > 0 {
            break;
        }
        if !killed && Instant::now() >= deadline {
            // SAFETY: signalling our own child, which has not been reaped, so the pid is its.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            killed = true;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let status = if killed {
        TIMED_OUT
    } else if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok(Reaped {
        status,
        // Linux reports ru_maxrss in kilobytes.
        peak_rss_mb: usage.ru_maxrss as f64 / 1024.0,
        minor_faults: usage.ru_minflt as u64,
    })
}

/// The median of some figures (the mean of the middle two for an even count).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}
