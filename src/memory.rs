//! Handing back what start-up used and the idle loop does not need.
//!
//! An idle scheduler should hold about what cron holds. Two things make it
//! hold more: the heap that parsing a big config freed (glibc keeps it for
//! reuse), and the pages of our own code and read-only data that start-up
//! touched: parsing, migrating, logging one line per job. The kernel maps
//! those 64 KiB at a time around each fault, so 10,000 jobs left about
//! 7 MB of the binary resident, of which the sleeping loop needs a tenth.
//! The pages are clean copies of the file, still in the page cache: handing
//! them back loses nothing, and a later fault maps them again.

/// Hands the memory freed after loading a config back to the system. glibc
/// keeps freed heap for reuse, and the parsed TOML of a big config is many
/// times the jobs it leaves: with 10,000 jobs, 6 MB of the scheduler's
/// resident memory. A config loaded on another thread left its garbage in
/// that thread's arena, which the rest of start-up does not reuse: trimmed
/// at once, it does not add to the peak (100,000 jobs: 50 MB).
pub fn release_freed_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages; it has no
    // preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Unmaps the resident pages of the executable's segments that are never
/// written (its code, read-only data, unwind tables and relocation table),
/// so that only what runs from now on comes back. Returns the bytes the
/// advice covered (0 where this does nothing).
///
/// Only segments without write permission are touched: the relocated
/// read-only data (RELRO) lives in a writable segment, and is private
/// memory that dropping would turn back into the unrelocated file.
pub fn release_code_pages() -> usize {
    #[cfg(target_os = "linux")]
    {
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        // SAFETY: the callback only reads the headers it is handed, and
        // `ranges` outlives the call.
        unsafe {
            libc::dl_iterate_phdr(
                Some(read_only_segments),
                (&mut ranges as *mut Vec<(usize, usize)>).cast(),
            );
        }
        // SAFETY: sysconf has no preconditions.
        let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
            p if p > 0 => p as usize,
            _ => return 0,
        };
        let mut covered = 0;
        for (start, end) in ranges {
            // Rounded inwards: a page shared with a writable segment stays.
            let (start, end) = (start.next_multiple_of(page), end / page * page);
            if end <= start {
                continue;
            }
            // SAFETY: the range lies inside a mapped, never-written
            // segment of our own executable; MADV_DONTNEED on a private
            // file mapping drops clean pages, which fault back from the
            // file unchanged.
            if unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED)
            } == 0
            {
                covered += end - start;
            }
        }
        covered
    }
    #[cfg(not(target_os = "linux"))]
    0
}

/// `dl_iterate_phdr`'s callback: the loadable segments without write
/// permission of the first object, which is the executable itself.
#[cfg(target_os = "linux")]
unsafe extern "C" fn read_only_segments(
    info: *mut libc::dl_phdr_info,
    _size: libc::size_t,
    ranges: *mut libc::c_void,
) -> libc::c_int {
    // SAFETY: the loader hands a valid header table for the call's
    // duration; `ranges` is the vector `release_code_pages` passed.
    let (info, ranges) = unsafe { (&*info, &mut *ranges.cast::<Vec<(usize, usize)>>()) };
    if !info.dlpi_phdr.is_null() {
        // SAFETY: dlpi_phdr points at dlpi_phnum headers.
        let headers = unsafe { std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum.into()) };
        for h in headers {
            if h.p_type == libc::PT_LOAD && h.p_flags & libc::PF_W == 0 {
                let start = info.dlpi_addr as usize + h.p_vaddr as usize;
                ranges.push((start, start + h.p_memsz as usize));
            }
        }
    }
    1 // the executable comes first: stop there
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// Resident kB of this executable's code.
    fn resident_read_only_kb() -> u64 {
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        let exe = exe.to_str().unwrap();
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let (mut ours, mut kb) = (false, 0);
        for line in smaps.lines() {
            let mut parts = line.split_whitespace();
            let first = parts.next().unwrap_or("");
            if first.contains('-') && !first.ends_with(':') {
                let perms = parts.next().unwrap_or("");
                ours = line.ends_with(exe) && perms.starts_with("r-x");
            } else if ours && first == "Rss:" {
                kb += parts.next().unwrap().parse::<u64>().unwrap();
            }
        }
        kb
    }

    #[test]
    fn the_code_pages_go_and_the_program_runs_on() {
        // Touch a good deal of code first: the test harness has run, and
        // formatting and parsing pull in more.
        let text = format!("{:?}", (1..200).map(|i| i.to_string()).collect::<Vec<_>>());
        let before = resident_read_only_kb();
        let covered = release_code_pages();
        let after = resident_read_only_kb();
        assert!(covered > 0, "no segment was advised");
        assert!(
            after < before,
            "the code's resident pages did not fall: {before} kB before, {after} kB after"
        );
        // Relocated data (vtables, statics) is untouched: dynamic dispatch
        // and formatting still give the same answers.
        let again = format!("{:?}", (1..200).map(|i| i.to_string()).collect::<Vec<_>>());
        assert_eq!(text, again);
        let shown: Box<dyn std::fmt::Display> = Box::new(42u8);
        assert_eq!(shown.to_string(), "42");
    }
}
