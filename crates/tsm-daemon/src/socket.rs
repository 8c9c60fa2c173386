//! [`ClientSocket`]: a client's connection, watched for writability only while a write waits.
//!
//! A socket registered with epoll for both directions wakes the daemon every time its peer
//! reads: the kernel reports `EPOLLOUT` whenever buffer space is freed, even though the
//! daemon had nothing more to write. On the keystroke path (an Output frame of one byte,
//! read at once by the client) that is one idle wake-up of the daemon per keystroke. So the
//! socket is registered for reading only; a write that would block waits on a duplicate of
//! the fd, registered for writability alone and dropped (deregistered) once it is writable.

use std::io::{self, IoSlice, Read, Write};
use std::os::unix::net::UnixStream;

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// A client's connection: reads and writes without blocking, readiness from tokio.
#[derive(Debug)]
pub(crate) struct ClientSocket {
    fd: AsyncFd<UnixStream>,
}

impl ClientSocket {
    /// Takes an accepted connection (tokio's, which this deregisters first).
    ///
    /// # Errors
    ///
    /// The fd could not be made non-blocking or registered.
    pub(crate) fn new(stream: tokio::net::UnixStream) -> io::Result<ClientSocket> {
        let stream = stream.into_std()?;
        stream.set_nonblocking(true)?;
        Ok(ClientSocket { fd: crate::register(stream, Interest::READABLE)? })
    }

    /// Waits until the client sent something (or closed).
    pub(crate) async fn readable(&self) -> io::Result<()> {
        self.fd.readable().await.map(drop)
    }

    /// Reads what is there; `WouldBlock` when nothing is (and the readiness is cleared).
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.fd.try_io(Interest::READABLE, |mut stream| stream.read(buf))
    }

    /// Writes what the socket takes; `WouldBlock` when it takes nothing.
    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        let mut stream = self.fd.get_ref();
        stream.write(buf)
    }

    /// Writes what the socket takes from `bufs`, in order, in one `writev`.
    pub(crate) fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut stream = self.fd.get_ref();
        stream.write_vectored(bufs)
    }

    /// Waits until a write would make progress: registers a duplicate of the fd for
    /// writability for as long as this waits (epoll reports a socket that is already
    /// writable at once, so no wake-up is lost).
    pub(crate) async fn writable(&self) -> io::Result<()> {
        let watch = crate::register(self.fd.get_ref().try_clone()?, Interest::WRITABLE)?;
        watch.writable().await.map(drop)
    }
}
