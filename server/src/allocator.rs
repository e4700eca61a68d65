//! The C allocator's arenas. glibc gives a thread that finds the other arenas busy one of its
//! own, up to eight per core, and each keeps the memory it once held. On 2 cores
//! (`bench/scale.sh`, the whole run) the server's resident memory peaked at 111–115 MiB with
//! the default, 76 MiB with two arenas and 75 MiB with four; single-reading ingest from 8
//! clients gave about 3,650, 3,180 and 3,360 readings/s. Two arenas a core keep most of the
//! speed and little of the memory. Where `MALLOC_ARENA_MAX` is set, it decides instead.

/// Limits the arenas; call it before any thread starts.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let arenas = i32::try_from(2 * cores).unwrap_or(i32::MAX);
        // SAFETY: mallopt only sets one of the allocator's parameters, and no other thread
        // exists yet to allocate while it does.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}
