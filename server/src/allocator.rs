//! The C allocator's arenas. glibc gives a thread that finds the other arenas busy one of its
//! own, up to eight per core, and each keeps the memory it once held: with the defaults the
//! server's resident memory reached 111 MiB in `bench/scale.sh`, and 76 MiB with two arenas.
//! Two suit a server whose threads mostly wait on the network and the database. Where
//! `MALLOC_ARENA_MAX` is set, it decides instead.

/// Limits the arenas; call it before any thread starts.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets one of the allocator's parameters, and no other thread
        // exists yet to allocate while it does.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}
