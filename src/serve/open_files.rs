//! The process's open-file limit: every connection is an open file, so the connection cap must
//! fit under it with room to spare for the database and Discord.

/// The soft open-file limit in force (`None` where there is no such limit to read).
#[cfg(unix)]
#[allow(clippy::unnecessary_cast)] // rlim_t is u64 on Linux only
pub fn open_file_limit() -> Option<u64> {
    nofile().map(|l| l.rlim_cur as u64)
}

#[cfg(unix)]
fn nofile() -> Option<libc::rlimit> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given, which lives on this stack frame.
    (unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0).then_some(limit)
}

/// Raises this process's soft open-file limit to its hard limit, and returns the soft limit now
/// in force. Left as it was where the system refuses.
#[cfg(unix)]
pub fn raise_open_file_limit() -> Option<u64> {
    let limit = nofile()?;
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct it is given. It fails (changing nothing) where
        // the hard limit is above what the system allows.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) };
    }
    open_file_limit()
}

#[cfg(not(unix))]
pub fn open_file_limit() -> Option<u64> {
    None
}

#[cfg(not(unix))]
pub fn raise_open_file_limit() -> Option<u64> {
    None
}
