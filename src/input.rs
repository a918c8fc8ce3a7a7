//! Inputs: paths and stdin, directory walks, gzip sniffing.
//!
//! [`expand`] turns what the user typed into a list of [`Input`]s, walking
//! directories (sorted, so output is reproducible) and filtering their files
//! with `--glob`; a path that cannot be walked becomes an error entry and
//! the rest is still scanned. [`open`] gives a reader, decompressing gzip
//! when the first bytes are gzip's magic, whatever the file is called.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use globset::GlobSet;

/// One thing to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Standard input.
    Stdin,
    /// A file.
    Path(PathBuf),
}

impl Input {
    /// The name used in output: the path as given, or `-`.
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "-".to_string(),
            Input::Path(p) => p.display().to_string(),
        }
    }

    /// When the file was last modified: the time of its newest line, for
    /// formats that write no year.
    pub fn modified(&self) -> Option<crate::time::Timestamp> {
        let Input::Path(p) = self else { return None };
        let modified = std::fs::metadata(p).ok()?.modified().ok()?;
        Some(crate::time::Timestamp::from_system(modified))
    }
}

/// A path that could not be turned into inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// The path (or walk entry) that failed.
    pub path: String,
    /// Why.
    pub message: String,
}

/// `--glob` filters: a file found in a walk is kept when it matches an
/// include glob (or there are none) and no exclude glob (`!pattern`, as in
/// ripgrep). Globs match the file name or the whole path.
#[derive(Clone, Debug, Default)]
pub struct Globs {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
}

impl Globs {
    /// Build from the user's globs; `!` at the start makes an exclude.
    pub fn new(globs: &[String]) -> Result<Globs, globset::Error> {
        let mut inc = globset::GlobSetBuilder::new();
        let mut exc = globset::GlobSetBuilder::new();
        let (mut n_inc, mut n_exc) = (0, 0);
        for g in globs {
            match g.strip_prefix('!') {
                Some(e) => {
                    exc.add(globset::Glob::new(e)?);
                    n_exc += 1;
                }
                None => {
                    inc.add(globset::Glob::new(g)?);
                    n_inc += 1;
                }
            }
        }
        Ok(Globs {
            include: if n_inc > 0 { Some(inc.build()?) } else { None },
            exclude: if n_exc > 0 { Some(exc.build()?) } else { None },
        })
    }

    fn is_selected(&self, path: &Path) -> bool {
        let hit =
            |set: &GlobSet| set.is_match(path) || path.file_name().is_some_and(|n| set.is_match(n));
        self.include.as_ref().is_none_or(hit) && !self.exclude.as_ref().is_some_and(hit)
    }
}

/// Expand paths into inputs. `-` is stdin; directories are walked
/// recursively, their files kept as `globs` select. Files named explicitly
/// are always kept.
///
/// Like ripgrep, a walk does not follow symlinks unless `follow` is set:
/// a link to a directory is skipped, a link to a file is scanned, and a
/// link to nothing is an error. With `follow`, links to directories are
/// walked and a link back to an ancestor (a loop) is an error.
pub fn expand(paths: &[PathBuf], globs: &Globs, follow: bool) -> (Vec<Input>, Vec<InputError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        if !path.is_dir() {
            // Files (and missing paths: opening reports the error) as given.
            inputs.push(Input::Path(path.clone()));
            continue;
        }
        let walk = walkdir::WalkDir::new(path).follow_links(follow).sort_by_file_name();
        for entry in walk {
            let e = match entry {
                Ok(e) => e,
                Err(e) => {
                    let at = e.path().unwrap_or(path);
                    let message = match (e.loop_ancestor(), e.io_error()) {
                        (Some(a), _) => format!("symlink loop: points back to {}", a.display()),
                        (None, Some(io)) if io.kind() == io::ErrorKind::NotFound => {
                            let link = at.symlink_metadata().is_ok_and(|m| m.is_symlink());
                            if link {
                                broken_link(at)
                            } else {
                                io.to_string()
                            }
                        }
                        (None, Some(io)) => io.to_string(),
                        (None, None) => e.to_string(),
                    };
                    let at = at.display().to_string();
                    errors.push(InputError { path: at, message });
                    continue;
                }
            };
            if e.file_type().is_dir() || !globs.is_selected(e.path()) {
                continue;
            }
            // Not following: a link is scanned when it leads to a file.
            if e.path_is_symlink() && !follow {
                match std::fs::metadata(e.path()) {
                    Ok(m) if m.is_dir() => continue,
                    Ok(_) => {}
                    Err(_) => {
                        errors.push(InputError {
                            path: e.path().display().to_string(),
                            message: broken_link(e.path()),
                        });
                        continue;
                    }
                }
            }
            inputs.push(Input::Path(e.into_path()));
        }
    }
    (inputs, errors)
}

/// The error for a symlink whose target does not exist.
fn broken_link(path: &Path) -> String {
    match std::fs::read_link(path) {
        Ok(target) => format!("broken symlink: its target {} does not exist", target.display()),
        Err(_) => "broken symlink".to_string(),
    }
}

/// An opened input: a buffered reader over its (decompressed) bytes, and,
/// for a plain regular file, the file itself, which the scanner may map.
pub struct Opened {
    /// The bytes of the input, gzip already undone.
    pub reader: Box<dyn BufRead + Send>,
    /// The file and its length when the bytes are the file's own (not
    /// stdin, not a pipe, not gzip): the same open file as `reader`, so a
    /// log rotated between the two cannot be mixed up.
    pub file: Option<(File, u64)>,
}

/// Open an input for reading, decompressing gzip (recognised by its magic
/// bytes) in process. The reader is buffered, so the caller can look at the
/// first bytes (`fill_buf`) to tell a document from a line stream.
pub fn open(input: &Input) -> io::Result<Opened> {
    let (raw, file): (Box<dyn Read + Send>, Option<(File, u64)>) = match input {
        Input::Stdin => (Box::new(io::stdin()), None),
        Input::Path(p) => {
            if p.is_dir() {
                return Err(io::Error::other("is a directory"));
            }
            let f = File::open(p).map_err(|e| {
                let link = p.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink());
                if e.kind() == io::ErrorKind::NotFound && link {
                    io::Error::new(e.kind(), broken_link(p))
                } else {
                    e
                }
            })?;
            let meta = f.metadata()?;
            // A second handle for mapping (a FIFO or device is only read).
            let mappable = if meta.is_file() { Some((f.try_clone()?, meta.len())) } else { None };
            (Box::new(f), mappable)
        }
    };
    let mut buffered = BufReader::with_capacity(256 * 1024, raw);
    let head = buffered.fill_buf()?;
    if head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b {
        let gz = MultiGzDecoder::new(buffered);
        Ok(Opened { reader: Box::new(BufReader::with_capacity(256 * 1024, gz)), file: None })
    } else {
        Ok(Opened { reader: Box::new(buffered), file })
    }
}

/// Map `len` bytes of `file` from `offset` (a multiple of the page size),
/// read-only, advised for one sequential pass.
///
/// The risk every memory-mapped reader takes (ripgrep too): if another
/// process truncates the file below the mapped range while it is read,
/// the read faults (SIGBUS) and the process stops. Callers map one window
/// at a time and check the length before each; `--no-mmap` avoids it.
#[allow(unsafe_code)]
pub fn map_window(file: &File, offset: u64, len: usize) -> io::Result<memmap2::Mmap> {
    // SAFETY: the mapping is read-only and private to this process, which
    // never writes the file; truncation by another process is the risk
    // documented above.
    let map = unsafe { memmap2::MmapOptions::new().offset(offset).len(len).map(file)? };
    #[cfg(unix)]
    {
        // Only a hint: readahead is better for it, nothing breaks without.
        let _ = map.advise(memmap2::Advice::Sequential);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_is_sniffed_not_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain-name.log");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"hello\nworld\n").unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let mut s = String::new();
        let mut opened = open(&Input::Path(path)).unwrap();
        assert!(opened.file.is_none(), "a gzip file is not mapped");
        opened.reader.read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello\nworld\n");
    }

    #[test]
    fn walks_sorted_and_filters() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for f in ["b.log", "a.txt", "sub/c.log"] {
            std::fs::write(dir.path().join(f), "x\n").unwrap();
        }
        let globs = Globs::new(&["*.{log,txt}".to_string(), "!a.*".to_string()]).unwrap();
        let (inputs, errors) = expand(&[dir.path().to_path_buf()], &globs, false);
        assert!(errors.is_empty());
        let names: Vec<String> = inputs
            .iter()
            .map(|i| i.name().trim_start_matches(&dir.path().display().to_string()).to_string())
            .collect();
        assert_eq!(names, vec!["/b.log", "/sub/c.log"]);
    }
}
