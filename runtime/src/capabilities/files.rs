//! Files: host directories a guest sees under paths of its own, read-only
//! or read-write (`dirs`).
//!
//! Each granted directory is opened once, at start, and handed to every
//! call as a preopen: a call never resolves a host path, so a host path can
//! never appear in what a guest or a client sees. Paths below a preopen are
//! resolved by cap-std, so `..`, absolute paths and symlinks cannot leave
//! the granted tree; `ro` refuses writes, creates, renames and deletes.
//!
//! Corral opens files itself (`open-at`), for two reasons:
//! - every open counts against the call's descriptor budget;
//! - a FIFO, a device or a socket file in a granted directory could block
//!   the host thread opening or reading it for ever, past any deadline.
//!   Files are opened non-blocking, and anything but a regular file or a
//!   directory is refused.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cap_primitives::fs::{FollowSymlinks, OpenOptions, OpenOptionsExt};
use serde::Deserialize;
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::filesystem::{Descriptor, Dir, File, WasiFilesystem, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::filesystem::types::{
    self, DescriptorFlags, ErrorCode, OpenFlags, PathFlags,
};
use wasmtime_wasi::{FsPerms, OpenMode};

use super::{
    AuditPart, CallSetup, CallState, Capability, Effects, Grant, GrantError, Host, Imports,
    Interfaces, Section,
};
use crate::budget::DescriptorKind;

const TYPES: &str = "wasi:filesystem/types@0.2.12";
const PREOPENS: &str = "wasi:filesystem/preopens@0.2.12";

/// The files capability.
pub struct Files;

/// A directory as written in the config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDir {
    host: PathBuf,
    guest: String,
    #[serde(default)]
    mode: DirMode,
}

/// What the guest may do in a granted directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
pub enum DirMode {
    /// Read files and list directories (`"ro"`, the default).
    #[default]
    #[serde(rename = "ro")]
    ReadOnly,
    /// Also create, write, rename and delete (`"rw"`).
    #[serde(rename = "rw")]
    ReadWrite,
}

impl DirMode {
    fn perms(self) -> FsPerms {
        match self {
            DirMode::ReadOnly => FsPerms::ReadOnly,
            DirMode::ReadWrite => FsPerms::ReadWrite,
        }
    }

    fn open_mode(self) -> OpenMode {
        match self {
            DirMode::ReadOnly => OpenMode::READ,
            DirMode::ReadWrite => OpenMode::READ | OpenMode::WRITE,
        }
    }

    fn label(self) -> &'static str {
        match self {
            DirMode::ReadOnly => "ro",
            DirMode::ReadWrite => "rw",
        }
    }
}

/// One granted directory.
#[derive(Debug, Clone)]
struct DirGrant {
    /// The host path as the config wrote it (for the operator's eyes only).
    host_as_written: String,
    /// Where it is, relative paths resolved against the config file.
    host: PathBuf,
    /// Where the guest sees it.
    guest: String,
    mode: DirMode,
}

/// A granted directory, opened at start, as every call receives it.
#[derive(Clone)]
pub(crate) struct Preopen {
    dir: Dir,
    guest: String,
}

impl std::fmt::Debug for Preopen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preopen")
            .field("guest", &self.guest)
            .finish()
    }
}

/// The directories granted to one component.
#[derive(Debug)]
struct FilesGrant {
    dirs: Vec<DirGrant>,
    /// The opened directories, once validated.
    preopens: Arc<[Preopen]>,
}

impl Capability for Files {
    fn name(&self) -> &'static str {
        "files"
    }

    fn keys(&self) -> &'static [&'static str] {
        &["dirs"]
    }

    fn interfaces(&self) -> &'static [Interfaces] {
        &[Interfaces {
            label: "filesystem",
            names: &["wasi:filesystem/"],
        }]
    }

    fn parse(&self, section: &Section<'_>) -> Result<Arc<dyn Grant>, GrantError> {
        let raw: Vec<RawDir> = section.get("dirs")?.unwrap_or_default();
        let mut dirs: Vec<DirGrant> = Vec::with_capacity(raw.len());
        for (i, dir) in raw.into_iter().enumerate() {
            let guest = &dir.guest;
            if !guest.starts_with('/') || guest.split('/').any(|part| part == ".." || part == ".") {
                return Err(section.error(
                    "dirs",
                    format!(
                        "{}: {guest:?} must be an absolute guest path without '.' or '..', e.g. \"/data\"",
                        section.key(&format!("dirs[{i}].guest"))
                    ),
                ));
            }
            let trimmed = guest.trim_end_matches('/');
            let guest = if trimmed.is_empty() { "/" } else { trimmed };
            if dirs.iter().any(|d| d.guest == guest) {
                return Err(section.error(
                    "dirs",
                    format!(
                        "{}: {guest:?} is granted twice",
                        section.key(&format!("dirs[{i}].guest"))
                    ),
                ));
            }
            dirs.push(DirGrant {
                host_as_written: dir.host.display().to_string(),
                host: dir.host,
                guest: guest.to_owned(),
                mode: dir.mode,
            });
        }
        Ok(Arc::new(FilesGrant {
            dirs,
            preopens: Arc::new([]),
        }))
    }
}

impl Grant for FilesGrant {
    fn held_descriptors(&self) -> u64 {
        self.preopens.len() as u64
    }

    fn validate(
        &self,
        section: &Section<'_>,
        host: &Host<'_>,
    ) -> Result<Arc<dyn Grant>, GrantError> {
        let mut dirs = Vec::with_capacity(self.dirs.len());
        let mut preopens = Vec::with_capacity(self.dirs.len());
        for (i, dir) in self.dirs.iter().enumerate() {
            let joined = host.base.join(&dir.host);
            let key = section.key(&format!("dirs[{i}].host"));
            let unusable = |why: String| {
                section.error(
                    "dirs",
                    format!(
                        "{key}: the directory {} cannot be used: {why} (create it, or fix the \
                         path; relative paths are relative to the config file)",
                        joined.display()
                    ),
                )
            };
            let resolved = joined.canonicalize().map_err(|e| unusable(e.to_string()))?;
            if !resolved.is_dir() {
                return Err(unusable("it is not a directory".into()));
            }
            let opened = cap_primitives::fs::open_ambient_dir(&resolved, ambient())
                .map_err(|e| unusable(e.to_string()))?;
            preopens.push(Preopen {
                dir: Dir::new(opened, dir.mode.perms(), dir.mode.open_mode(), false),
                guest: dir.guest.clone(),
            });
            dirs.push(DirGrant {
                host: resolved,
                ..dir.clone()
            });
        }
        Ok(Arc::new(FilesGrant {
            dirs,
            preopens: preopens.into(),
        }))
    }

    fn granted(&self) -> bool {
        // With no directory the interfaces are still linked: a guest's libc
        // asks for its preopens at start, and gets none.
        true
    }

    fn link(&self, linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
        types::add_to_linker::<CallState, WasiFilesystem>(linker, CallState::filesystem)?;
        linker.allow_shadowing(true);
        linker
            .instance(TYPES)?
            .func_wrap_async("[method]descriptor.open-at", |store, params| {
                Box::new(open_at(store, params))
            })?;
        linker
            .instance(PREOPENS)?
            .func_wrap("get-directories", get_directories)?;
        linker.allow_shadowing(false);
        Ok(())
    }

    fn prepare(&self, call: &mut CallSetup) -> Result<(), String> {
        call.preopens = self.preopens.clone();
        Ok(())
    }

    fn talks_to_client(&self) -> bool {
        false
    }

    fn audit(&self, imports: &Imports, key: &str) -> AuditPart {
        let imported = imports.has("filesystem");
        let view = self
            .dirs
            .iter()
            .map(|d| {
                serde_json::json!({"host": d.host_as_written, "guest": d.guest, "mode": d.mode})
            })
            .collect();
        let mut part = AuditPart {
            view: vec![("dirs", serde_json::Value::Array(view))],
            grants: self
                .dirs
                .iter()
                .map(|d| {
                    format!(
                        "dir      {} -> {} ({})",
                        d.host_as_written,
                        d.guest,
                        d.mode.label()
                    )
                })
                .collect(),
            ..AuditPart::default()
        };
        match (imported, self.dirs.is_empty()) {
            (true, false) => part.reach.extend(self.dirs.iter().map(|d| {
                let verb = match d.mode {
                    DirMode::ReadOnly => "reads",
                    DirMode::ReadWrite => "reads and writes",
                };
                format!("{verb} {} as {}", d.host_as_written, d.guest)
            })),
            (true, true) => part.reach.push(
                "imports wasi:filesystem but has no directory grant: every file access is refused"
                    .into(),
            ),
            (false, false) => part.warnings.push(format!(
                "{key}.dirs is granted but the component does not import wasi:filesystem: the grant is unused"
            )),
            (false, true) => {}
        }
        if imported && self.dirs.iter().any(|d| d.mode == DirMode::ReadWrite) {
            part.warnings.push(
                "a directory is granted read-write: the tools may change or delete files in it"
                    .into(),
            );
        }
        part
    }

    fn effects(&self) -> Effects {
        Effects {
            writes: self.dirs.iter().any(|d| d.mode == DirMode::ReadWrite),
            open_world: false,
        }
    }

    fn host_names(&self) -> Vec<(String, String)> {
        self.dirs
            .iter()
            .flat_map(|d| {
                [
                    (d.host.display().to_string(), d.guest.clone()),
                    (d.host_as_written.clone(), d.guest.clone()),
                ]
            })
            // Only absolute paths: a relative one (`data`) is a word that
            // could appear anywhere in a message.
            .filter(|(host, _)| host.starts_with('/') && host.len() > 1)
            .collect()
    }
}

fn ambient() -> cap_primitives::AmbientAuthority {
    cap_primitives::ambient_authority()
}

/// The granted directories as a guest receives them: a handle and a path.
type Preopened = Vec<(Resource<Descriptor>, String)>;

/// `wasi:filesystem/preopens.get-directories`: the granted directories.
fn get_directories(
    mut store: StoreContextMut<'_, CallState>,
    (): (),
) -> wasmtime::Result<(Preopened,)> {
    let state = store.data_mut();
    let preopens = state.preopens.clone();
    let mut directories = Vec::with_capacity(preopens.len());
    for preopen in preopens.iter() {
        // The directory opened at start, shared: a handle on it holds no
        // descriptor of its own, and its only state (the open file
        // description) is never read through it.
        let handle = state.table.push(Descriptor::Dir(preopen.dir.clone()))?;
        directories.push((handle, preopen.guest.clone()));
    }
    Ok((directories,))
}

type OpenAtParams = (
    Resource<Descriptor>,
    PathFlags,
    String,
    OpenFlags,
    DescriptorFlags,
);

/// `wasi:filesystem/types.[method]descriptor.open-at`, opening only
/// regular files and directories, without blocking, within the budget.
async fn open_at(
    mut store: StoreContextMut<'_, CallState>,
    (parent, path_flags, path, oflags, flags): OpenAtParams,
) -> wasmtime::Result<(Result<Resource<Descriptor>, ErrorCode>,)> {
    let state = store.data_mut();
    let Descriptor::Dir(dir) = state.table.get(&parent)? else {
        return Ok((Err(ErrorCode::NotDirectory),));
    };
    let (dir_file, perms) = (dir.dir.clone(), dir.perms);
    let request = match Request::new(path_flags, oflags, flags, perms) {
        Ok(request) => request,
        Err(code) => return Ok((Err(code),)),
    };
    state.descriptors.admit(&state.table)?;
    let relative = path.clone();
    let opened = tokio::task::spawn_blocking(move || request.open(&dir_file, Path::new(&relative)))
        .await
        .map_err(|e| wasmtime::Error::msg(format!("opening a file failed: {e}")))?;
    let state = store.data_mut();
    let descriptor = match opened {
        Ok(Opened::Dir(file, mode)) => Descriptor::Dir(Dir::new(file, perms, mode, false)),
        Ok(Opened::File(file, mode)) => Descriptor::File(File::new(file, perms, mode, false)),
        Ok(Opened::Special(kind)) => {
            state.denials.deny(format!(
                "opening {path:?} refused: it is {kind}, which a tool may not open \
                 (only regular files and directories can be opened)"
            ));
            return Ok((Err(ErrorCode::Access),));
        }
        Err(code) => return Ok((Err(code),)),
    };
    let handle = state.table.push(descriptor)?;
    state.descriptors.record(handle.rep(), DescriptorKind::File);
    Ok((Ok(handle),))
}

/// What an `open-at` asks for, checked against the directory's mode.
struct Request {
    options: OpenOptions,
    mode: OpenMode,
    directory: bool,
}

/// The outcome of an open.
enum Opened {
    Dir(std::fs::File, OpenMode),
    File(std::fs::File, OpenMode),
    /// Not a regular file or directory: what it is, in words.
    Special(&'static str),
}

impl Request {
    fn new(
        path_flags: PathFlags,
        oflags: OpenFlags,
        flags: DescriptorFlags,
        perms: FsPerms,
    ) -> Result<Request, ErrorCode> {
        let mut options = OpenOptions::new();
        let mut mode = OpenMode::empty();
        let mut creates = false;
        if oflags.contains(OpenFlags::CREATE) {
            if oflags.contains(OpenFlags::EXCLUSIVE) {
                options.create_new(true);
            } else {
                options.create(true);
            }
            creates = true;
            options.write(true);
            mode |= OpenMode::WRITE;
        }
        if oflags.contains(OpenFlags::TRUNCATE) {
            options.truncate(true).write(true);
            mode |= OpenMode::WRITE;
        }
        if flags.contains(DescriptorFlags::WRITE) {
            options.write(true);
            mode |= OpenMode::WRITE;
        }
        if flags.contains(DescriptorFlags::READ) || !flags.contains(DescriptorFlags::WRITE) {
            // Opened for reading when not for writing, as the OS needs one
            // of the two; the mode still refuses reads that were not asked.
            options.read(true);
            mode |= OpenMode::READ;
        }
        // `cap-fs-ext`'s `follow`, without the extra crate.
        options._cap_fs_ext_follow(if path_flags.contains(PathFlags::SYMLINK_FOLLOW) {
            FollowSymlinks::Yes
        } else {
            FollowSymlinks::No
        });
        if flags.intersects(
            DescriptorFlags::FILE_INTEGRITY_SYNC
                | DescriptorFlags::DATA_INTEGRITY_SYNC
                | DescriptorFlags::REQUESTED_WRITE_SYNC,
        ) {
            return Err(ErrorCode::Unsupported);
        }
        let directory = oflags.contains(OpenFlags::DIRECTORY);
        if directory
            && oflags.intersects(OpenFlags::CREATE | OpenFlags::EXCLUSIVE | OpenFlags::TRUNCATE)
        {
            return Err(ErrorCode::Invalid);
        }
        if perms == FsPerms::ReadOnly && (creates || mode.contains(OpenMode::WRITE)) {
            return Err(ErrorCode::NotPermitted);
        }
        // Never block: a FIFO opened for reading would wait for a writer.
        options.custom_flags(libc::O_NONBLOCK);
        Ok(Request {
            options,
            mode,
            directory,
        })
    }

    fn open(&self, dir: &std::fs::File, path: &Path) -> Result<Opened, ErrorCode> {
        let file =
            cap_primitives::fs::open(dir, path, &self.options).map_err(|e| error_code(&e))?;
        let file_type = file.metadata().map_err(|e| error_code(&e))?.file_type();
        use std::os::unix::fs::FileTypeExt;
        Ok(if file_type.is_dir() {
            Opened::Dir(file, self.mode)
        } else if self.directory {
            return Err(ErrorCode::NotDirectory);
        } else if file_type.is_file() {
            Opened::File(file, self.mode)
        } else if file_type.is_fifo() {
            Opened::Special("a FIFO (named pipe)")
        } else if file_type.is_socket() {
            Opened::Special("a Unix socket")
        } else if file_type.is_char_device() || file_type.is_block_device() {
            Opened::Special("a device")
        } else {
            Opened::Special("not a regular file")
        })
    }
}

/// The WASI error code of an OS error.
fn error_code(error: &std::io::Error) -> ErrorCode {
    match error.raw_os_error() {
        Some(libc::ENOENT) => ErrorCode::NoEntry,
        Some(libc::EEXIST) => ErrorCode::Exist,
        Some(libc::EACCES) => ErrorCode::Access,
        Some(libc::EPERM) => ErrorCode::NotPermitted,
        Some(libc::ENOTDIR) => ErrorCode::NotDirectory,
        Some(libc::EISDIR) => ErrorCode::IsDirectory,
        Some(libc::ELOOP) => ErrorCode::Loop,
        Some(libc::ENAMETOOLONG) => ErrorCode::NameTooLong,
        Some(libc::EINVAL) => ErrorCode::Invalid,
        Some(libc::ENXIO) => ErrorCode::NoDevice,
        Some(libc::EMFILE | libc::ENFILE) => ErrorCode::InsufficientMemory,
        Some(libc::ENOSPC) => ErrorCode::InsufficientSpace,
        Some(libc::EROFS) => ErrorCode::ReadOnly,
        Some(libc::EBUSY) => ErrorCode::Busy,
        Some(libc::EAGAIN) => ErrorCode::WouldBlock,
        Some(libc::ETXTBSY) => ErrorCode::TextFileBusy,
        Some(libc::EXDEV) => ErrorCode::CrossDevice,
        _ => match error.kind() {
            std::io::ErrorKind::NotFound => ErrorCode::NoEntry,
            std::io::ErrorKind::PermissionDenied => ErrorCode::NotPermitted,
            std::io::ErrorKind::AlreadyExists => ErrorCode::Exist,
            _ => ErrorCode::Io,
        },
    }
}
