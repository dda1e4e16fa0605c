//! An allocation that fails in spite of the memory check (another process
//! took the memory meanwhile, a limit the check cannot see): one line and
//! nothing left behind, instead of Rust's abort (exit 134, a backtrace,
//! and the run's fallocated temporaries and locks left on disk).
//!
//! The global allocator is the system's, watched: when it returns no
//! memory, the rank says so in one line written without allocating,
//! removes the job's temporaries and locks as the panic hook does, and
//! ends the job (MPI_Abort once MPI is up, else exit 1).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// The system allocator, with [`out_of_memory`] on failure.
pub struct Watched;

#[global_allocator]
static ALLOCATOR: Watched = Watched;

// SAFETY: every call is passed to `System` unchanged; only a null result
// is acted on, and then the process ends.
unsafe impl GlobalAlloc for Watched {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        checked(System.alloc(layout), layout.size())
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        checked(System.alloc_zeroed(layout), layout.size())
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        checked(System.realloc(ptr, layout, new_size), new_size)
    }
}

fn checked(p: *mut u8, size: usize) -> *mut u8 {
    if p.is_null() {
        out_of_memory(size);
    }
    p
}

/// This rank's number once MPI is up (-1 before), for the line and for
/// MPI_Abort.
static RANK: AtomicI32 = AtomicI32::new(-1);

/// MPI is initialised on this rank (MPI_Abort may be called); after
/// [`mpi_down`], it is not.
pub fn mpi_up(rank: i32) {
    RANK.store(rank, Ordering::SeqCst);
}

/// MPI is being finalised: an allocation failure from here on exits.
pub fn mpi_down() {
    RANK.store(-1, Ordering::SeqCst);
}

/// The line, the clean-up and the end of the job; never returns. Nothing
/// here allocates: the line is built in a stack buffer and written with
/// write(2); removing a file with a path shorter than a few hundred bytes
/// uses the standard library's stack buffer. A failure inside (a second
/// one) ends the process at once.
fn out_of_memory(size: usize) -> ! {
    static ONCE: AtomicBool = AtomicBool::new(false);
    if ONCE.swap(true, Ordering::SeqCst) {
        // SAFETY: _exit has no preconditions.
        unsafe { libc::_exit(1) }
    }
    let rank = RANK.load(Ordering::SeqCst);
    let mut line = Line::default();
    line.push(b"parsim: error: out of memory: rank ");
    line.number(rank.max(0) as u64);
    line.push(b" could not allocate ");
    line.number(size as u64);
    line.push(
        b" bytes (another process took the memory, or a limit the memory check \
cannot see); the job's temporary files and locks are removed\n",
    );
    // SAFETY: a valid buffer of `len` bytes; stderr may be closed (then
    // nothing is written).
    unsafe { libc::write(2, line.buf.as_ptr().cast(), line.len) };
    crate::output::remove_live();
    if rank >= 0 {
        // SAFETY: MPI is initialised and not finalised (`mpi_up` ..
        // `mpi_down`); MPI_Abort does not return.
        unsafe {
            mpi::ffi::MPI_Abort(
                mpi::ffi::RSMPI_COMM_WORLD,
                crate::error::ExitCode::Runtime as i32,
            );
        }
    }
    // SAFETY: _exit has no preconditions.
    unsafe { libc::_exit(crate::error::ExitCode::Runtime as i32) }
}

/// A line of text in a stack buffer (cut at its size).
struct Line {
    buf: [u8; 512],
    len: usize,
}

impl Default for Line {
    fn default() -> Self {
        Line {
            buf: [0; 512],
            len: 0,
        }
    }
}

impl Line {
    fn push(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        self.len += n;
    }

    fn number(&mut self, mut v: u64) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.push(&digits[i..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_is_built_without_allocating() {
        let mut l = Line::default();
        l.push(b"rank ");
        l.number(0);
        l.push(b", ");
        l.number(18_446_744_073_709_551_615);
        assert_eq!(&l.buf[..l.len], b"rank 0, 18446744073709551615");
        let mut full = Line::default();
        full.push(&[b'x'; 600]);
        assert_eq!(full.len, 512, "cut, never past the buffer");
    }
}
