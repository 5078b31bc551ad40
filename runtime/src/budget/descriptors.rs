//! Files and sockets a call holds open at once.
//!
//! Every open file, directory and socket is a host descriptor, and the
//! process has a fixed number of them: one call must not take them all.
//! The capabilities that open one (files, sockets) ask [`Descriptors`]
//! first and record the handle after. A handle the guest has dropped is
//! gone from the resource table, so the live count is the recorded handles
//! still in the table with their type; it is recomputed at each open.

use std::any::Any;

use wasmtime::component::{Resource, ResourceTable};
use wasmtime_wasi::filesystem::Descriptor;
use wasmtime_wasi::p2::{TcpSocket, UdpSocket};

use super::{Budget, Exceeded};

/// What kind of descriptor a handle holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DescriptorKind {
    /// A file or directory (`wasi:filesystem` descriptor).
    File,
    /// A TCP socket.
    Tcp,
    /// A UDP socket.
    Udp,
}

/// The descriptors of one call.
#[derive(Debug)]
pub struct Descriptors {
    limit: u32,
    held: Vec<(u32, DescriptorKind)>,
}

impl Descriptors {
    /// A budget of `limit` descriptors open at once.
    pub fn new(limit: u32) -> Descriptors {
        Descriptors {
            limit,
            held: Vec::new(),
        }
    }

    /// Checks that one more descriptor fits, given what `table` still holds.
    pub fn admit(&mut self, table: &ResourceTable) -> Result<(), Exceeded> {
        self.held.retain(|&(rep, kind)| live(table, rep, kind));
        if self.held.len() >= self.limit as usize {
            return Err(Exceeded {
                budget: Budget::Descriptors,
                limit: u64::from(self.limit),
            });
        }
        Ok(())
    }

    /// Records a descriptor just pushed into the table as `rep`.
    pub fn record(&mut self, rep: u32, kind: DescriptorKind) {
        if !self.held.contains(&(rep, kind)) {
            self.held.push((rep, kind));
        }
    }

    /// How many recorded descriptors are still held.
    pub fn held(&self, table: &ResourceTable) -> usize {
        self.held
            .iter()
            .filter(|&&(rep, kind)| live(table, rep, kind))
            .count()
    }
}

fn live(table: &ResourceTable, rep: u32, kind: DescriptorKind) -> bool {
    fn is<T: Any + Send>(table: &ResourceTable, rep: u32) -> bool {
        table.get::<T>(&Resource::new_own(rep)).is_ok()
    }
    match kind {
        DescriptorKind::File => is::<Descriptor>(table, rep),
        DescriptorKind::Tcp => is::<TcpSocket>(table, rep),
        DescriptorKind::Udp => is::<UdpSocket>(table, rep),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_handles_free_their_place() {
        let mut table = ResourceTable::new();
        let mut descriptors = Descriptors::new(2);
        let file = || {
            let dir = std::fs::File::open(".").unwrap();
            Descriptor::Dir(wasmtime_wasi::filesystem::Dir::new(
                dir,
                wasmtime_wasi::FsPerms::ReadOnly,
                wasmtime_wasi::OpenMode::READ,
                false,
            ))
        };
        let a = table.push(file()).unwrap();
        descriptors.record(a.rep(), DescriptorKind::File);
        descriptors.admit(&table).unwrap();
        let b = table.push(file()).unwrap();
        descriptors.record(b.rep(), DescriptorKind::File);
        let full = descriptors.admit(&table).unwrap_err();
        assert_eq!(full.budget, Budget::Descriptors);
        table.delete(a).unwrap();
        descriptors.admit(&table).unwrap();
        assert_eq!(descriptors.held(&table), 1);
    }
}
