//! Container decoding: plain, gzip (multi-member) or zip, chosen by magic bytes, streamed under
//! the [`Limits`]. A UTF-8 byte-order mark at the start of the text is dropped.

use super::error::{ErrorKind, ReportError, StreamError};
use super::limits::{read_capped, Count, Counting, Inflated, Limits};
use super::read_ahead::with_read_ahead;
use super::source::Opened;
use super::split::Text;
use flate2::read::MultiGzDecoder;
use memmap2::Mmap;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const ZIP_EMPTY_MAGIC: &[u8] = b"PK\x05\x06";
const BOM: &[u8] = b"\xEF\xBB\xBF";
const BUF: usize = 64 * 1024;
/// From how many threads a gzip stream is inflated on a thread of its own ([`with_read_ahead`]).
/// On two cores the copy it adds costs as much as it saves (measured: `docs/scale.md`); with a
/// third core the copy and the cuts run beside both.
const READ_AHEAD_FROM: usize = 3;

fn is_archive(head: &[u8]) -> bool {
    head.starts_with(GZIP_MAGIC) || head.starts_with(ZIP_MAGIC) || head.starts_with(ZIP_EMPTY_MAGIC)
}

fn fail(name: &str, kind: ErrorKind) -> ReportError {
    ReportError::new(name, kind)
}

fn io_fail(name: &str, err: &io::Error) -> ReportError {
    fail(name, StreamError::kind_of(err))
}

/// How many threads should read and parse a text stream, on `threads` threads in all (0: the
/// reading thread alone, with no other). The workers take turns at the stream
/// ([`super::parallel`]). A gzip stream read ahead on a thread of its own (from
/// [`READ_AHEAD_FROM`] threads) leaves one thread fewer to them.
fn parse_workers(threads: usize, read_ahead: bool) -> usize {
    match threads {
        0 | 1 => 0,
        t if read_ahead => t - 1,
        t => t,
    }
}

/// Decodes `opened` and hands the text stream to `f`, with the number of workers that should
/// read and parse it ([`parse_workers`]).
pub fn with_decoded<T>(
    opened: Opened,
    name: &str,
    limits: &Limits,
    f: impl FnOnce(Text<'_>, usize) -> Result<T, ReportError>,
) -> Result<T, ReportError> {
    let opened = match opened {
        Opened::File(file) => match map_plain(&file, limits) {
            Some(map) => return with_mapped(&map, name, limits, f),
            None => Opened::File(file),
        },
        stream => stream,
    };
    let (compressed, count) = Counting::new(match opened {
        Opened::File(file) => Box::new(file) as Box<dyn Read + Send>,
        Opened::Stream(stream) => stream,
    });
    let mut raw = BufReader::with_capacity(BUF, compressed);
    let head = raw.fill_buf().map_err(|e| io_fail(name, &e))?;
    if head.starts_with(GZIP_MAGIC) {
        let decoder = MultiGzDecoder::new(raw);
        let inflated = Inflated::new(decoder, count, *limits, ErrorKind::CorruptGzip);
        let read_ahead = limits.threads >= READ_AHEAD_FROM;
        let workers = parse_workers(limits.threads, read_ahead);
        if read_ahead {
            // Inflating gets a thread of its own, beside the one that cuts chunks and the
            // workers: the cutting (a copy and a search for quotes) comes off the inflating
            // core, which sets the pace.
            return with_read_ahead(inflated, |text| with_text(text, name, workers, f));
        }
        return with_text(inflated, name, workers, f);
    }
    if head.starts_with(ZIP_MAGIC) || head.starts_with(ZIP_EMPTY_MAGIC) {
        let spooled = spool(raw, name, limits)?;
        return with_zip_entry(spooled, name, limits, f);
    }
    let limited = Inflated::new(raw, count, *limits, ErrorKind::Io);
    with_text(limited, name, parse_workers(limits.threads, false), f)
}

/// A plain local file, mapped into memory: its chunks are then read in place, with no copy from
/// the system's cache. `None` (read it as a stream) for anything else: not a regular file, empty,
/// over the decompressed-size limit (the stream reports that), or an archive.
fn map_plain(file: &std::fs::File, limits: &Limits) -> Option<Mmap> {
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() == 0 || meta.len() > limits.max_decompressed_bytes {
        return None;
    }
    // SAFETY: the map is read-only and lives while the file is read. A file cut shorter by
    // another process while it is read would end the process (SIGBUS) rather than give wrong
    // bytes; reports are written once and then only read.
    let map = unsafe { Mmap::map(file) }.ok()?;
    (!is_archive(&map)).then_some(map)
}

/// Drops a leading BOM (even a repeated one) of a mapped text, rejects an archive inside it as
/// [`with_text`] does, runs `f` on the text in place.
fn with_mapped<T>(
    map: &Mmap,
    name: &str,
    limits: &Limits,
    f: impl FnOnce(Text<'_>, usize) -> Result<T, ReportError>,
) -> Result<T, ReportError> {
    let mut at = 0;
    while starts_with_bom(&map[at..], name)? {
        at += BOM.len();
    }
    f(
        Text::Mapped { map, at },
        parse_workers(limits.threads, false),
    )
}

/// Copies a zip stream into an anonymous temporary file (zip needs its central directory at the
/// end, so it cannot be read front to back). Memory stays flat; disk is capped.
fn spool(mut raw: impl Read, name: &str, limits: &Limits) -> Result<std::fs::File, ReportError> {
    let mut file = tempfile::tempfile().map_err(|e| fail(name, ErrorKind::Io(e.to_string())))?;
    let copied = io::copy(&mut (&mut raw).take(limits.max_spool_bytes + 1), &mut file)
        .map_err(|e| io_fail(name, &e))?;
    if copied > limits.max_spool_bytes {
        return Err(fail(
            name,
            ErrorKind::Limit(format!(
                "compressed size over {} bytes",
                limits.max_spool_bytes
            )),
        ));
    }
    file.seek(SeekFrom::Start(0))
        .map_err(|e| fail(name, ErrorKind::Io(e.to_string())))?;
    Ok(file)
}

/// The most entries any end-of-central-directory record near the end of the archive declares
/// (the classic record's two counts, and the zip64 record's when a locator points to one), read
/// from at most 64 KiB + 42 bytes at the end: so a huge count is refused before the central
/// directory is parsed (the zip crate holds every entry of it in memory).
fn declared_entries(file: &mut std::fs::File) -> io::Result<u64> {
    let (len, _, tail) = read_tail(file)?;
    let mut most = 0;
    for at in (0..tail.len().saturating_sub(21)).rev() {
        if !is_end_record(&tail, at) {
            continue;
        }
        most = most.max(u16_at(&tail, at + 8)).max(u16_at(&tail, at + 10));
        if let Some((_, record)) = zip64_record(file, &tail, at, len)? {
            most = most.max(u64_at(&record, 24)).max(u64_at(&record, 32));
        }
    }
    file.seek(SeekFrom::Start(0))?;
    Ok(most)
}

const EOCD: &[u8] = b"PK\x05\x06";
const LOCATOR: &[u8] = b"PK\x06\x07";
const EOCD64: &[u8] = b"PK\x06\x06";

fn u16_at(b: &[u8], at: usize) -> u64 {
    u64::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn u32_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes(b[at..at + 4].try_into().expect("4")))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8"))
}

/// The archive's length, where its tail starts, and the tail: the last 64 KiB + 42 bytes, where
/// every end-of-central-directory record (with its comment and zip64 locator) must lie.
fn read_tail(file: &mut std::fs::File) -> io::Result<(u64, u64, Vec<u8>)> {
    let len = file.seek(SeekFrom::End(0))?;
    let tail_len = len.min(22 + 0xFFFF + 20) as usize;
    let tail_start = len - tail_len as u64;
    file.seek(SeekFrom::Start(tail_start))?;
    let mut tail = vec![0; tail_len];
    file.read_exact(&mut tail)?;
    Ok((len, tail_start, tail))
}

/// Whether an end record starts at `at` of the tail, with its comment inside the tail.
fn is_end_record(tail: &[u8], at: usize) -> bool {
    &tail[at..at + 4] == EOCD && at + 22 + u16_at(tail, at + 20) as usize <= tail.len()
}

/// The zip64 end record (its offset and bytes) that a locator just before the end record at
/// `at` points to, if there is one inside the archive.
fn zip64_record(
    file: &mut std::fs::File,
    tail: &[u8],
    at: usize,
    len: u64,
) -> io::Result<Option<(u64, [u8; 56])>> {
    if at < 20 || &tail[at - 20..at - 16] != LOCATOR {
        return Ok(None);
    }
    let record_at = u64_at(tail, at - 12);
    if record_at.checked_add(56).is_none_or(|end| end > len) {
        return Ok(None);
    }
    let mut record = [0u8; 56];
    file.seek(SeekFrom::Start(record_at))?;
    file.read_exact(&mut record)?;
    Ok((&record[..4] == EOCD64).then_some((record_at, record)))
}

/// Checks the central directory against the end-of-central-directory record that points to it
/// (the zip64 one when a locator points to one): the directory must end where that record
/// starts, and walking its file headers (`PK\x01\x02`, each 46 bytes plus its name, extra
/// field and comment) must end exactly at its end and count exactly the entries the record
/// declares. An archive whose end record claims one entry while its directory lists three (or
/// whose directory stops short of the end record, hiding entries after it) is refused: read
/// from the record alone, it would be read as holding one. At most `max_entries + 1` headers are
/// read. Answers the reason when they disagree.
fn central_directory_mismatch(
    file: &mut std::fs::File,
    max_entries: usize,
) -> io::Result<Option<String>> {
    const HEADER: &[u8] = b"PK\x01\x02";
    let (len, tail_start, tail) = read_tail(file)?;
    // The record nearest the end whose comment fits: the one a reader takes.
    let Some(at) = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&at| is_end_record(&tail, at))
    else {
        // No end record at all: the zip reader says so.
        return Ok(None);
    };
    let (mut entries, mut disk_entries) = (u16_at(&tail, at + 10), u16_at(&tail, at + 8));
    let (mut cd_size, mut cd_offset) = (u32_at(&tail, at + 12), u32_at(&tail, at + 16));
    let mut cd_end_must_be = tail_start + at as u64;
    if let Some((record_at, record)) = zip64_record(file, &tail, at, len)? {
        disk_entries = u64_at(&record, 24);
        entries = u64_at(&record, 32);
        cd_size = u64_at(&record, 40);
        cd_offset = u64_at(&record, 48);
        cd_end_must_be = record_at;
    }
    file.seek(SeekFrom::Start(0))?;
    if disk_entries != entries {
        return Ok(Some(format!(
            "the end record declares {disk_entries} entries on this disk but {entries} in all"
        )));
    }
    let Some(cd_end) = cd_offset
        .checked_add(cd_size)
        .filter(|&e| e <= cd_end_must_be)
    else {
        return Ok(Some(
            "the central directory runs past the end record".into(),
        ));
    };
    if cd_end != cd_end_must_be {
        return Ok(Some(format!(
            "{} bytes between the central directory and the end record",
            cd_end_must_be - cd_end
        )));
    }
    let mut reader = BufReader::new(&mut *file);
    reader.seek(SeekFrom::Start(cd_offset))?;
    let (mut at, mut found) = (cd_offset, 0u64);
    let mut header = [0u8; 46];
    while at < cd_end && found <= max_entries as u64 {
        if cd_end - at < 46 {
            break;
        }
        reader.read_exact(&mut header)?;
        if &header[..4] != HEADER {
            break;
        }
        let skip = u16_at(&header, 28) + u16_at(&header, 30) + u16_at(&header, 32);
        reader.seek_relative(skip as i64)?;
        at += 46 + skip;
        found += 1;
    }
    drop(reader);
    file.seek(SeekFrom::Start(0))?;
    if found > max_entries as u64 {
        // More headers than the limit allows: whatever the record says, too many.
        return Ok(Some(format!(
            "the central directory lists more than {max_entries} entries but the end record declares {entries}"
        )));
    }
    if at != cd_end {
        return Ok(Some(
            "the central directory does not end where the end record says".into(),
        ));
    }
    if found != entries {
        return Ok(Some(format!(
            "the end record declares {entries} entries but the central directory holds {found}"
        )));
    }
    Ok(None)
}

/// The spooled archive, counting the bytes actually read from it: the compression ratio is
/// taken from these, never from the sizes the archive declares.
struct CountingFile {
    file: std::fs::File,
    count: Count,
}

impl Read for CountingFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.count.add(n as u64);
        Ok(n)
    }
}

impl Seek for CountingFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.file.seek(pos)
    }
}

fn with_zip_entry<T>(
    mut file: std::fs::File,
    name: &str,
    limits: &Limits,
    f: impl FnOnce(Text<'_>, usize) -> Result<T, ReportError>,
) -> Result<T, ReportError> {
    let too_many = || {
        fail(
            name,
            ErrorKind::Limit(format!("more than {} zip entries", limits.max_zip_entries)),
        )
    };
    let declared =
        declared_entries(&mut file).map_err(|e| fail(name, ErrorKind::Io(e.to_string())))?;
    if declared > limits.max_zip_entries as u64 {
        return Err(too_many());
    }
    if let Some(why) = central_directory_mismatch(&mut file, limits.max_zip_entries)
        .map_err(|e| fail(name, ErrorKind::Io(e.to_string())))?
    {
        return Err(fail(name, ErrorKind::CorruptZip(why)));
    }
    let consumed = Count::new(0);
    let counting = CountingFile {
        file,
        count: consumed.clone(),
    };
    let mut archive = zip::ZipArchive::new(BufReader::new(counting))
        .map_err(|e| fail(name, ErrorKind::CorruptZip(e.to_string())))?;
    if archive.len() > limits.max_zip_entries {
        return Err(too_many());
    }
    let mut files = Vec::new();
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| fail(name, ErrorKind::CorruptZip(e.to_string())))?;
        let entry_name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        if entry.is_dir() || entry_name.starts_with("__MACOSX/") {
            continue;
        }
        files.push(i);
    }
    let index = match files.as_slice() {
        [one] => *one,
        [] => {
            return Err(fail(
                name,
                ErrorKind::NotAReport("empty zip archive".into()),
            ))
        }
        many => {
            return Err(fail(
                name,
                ErrorKind::Invalid(format!(
                    "zip archive holds {} files; a billing report zip holds one",
                    many.len()
                )),
            ))
        }
    };
    let entry = archive
        .by_index(index)
        .map_err(|e| fail(name, ErrorKind::CorruptZip(e.to_string())))?;
    if entry.size() > limits.max_decompressed_bytes {
        return Err(fail(
            name,
            ErrorKind::Limit(format!(
                "decompressed size over {} bytes",
                limits.max_decompressed_bytes
            )),
        ));
    }
    // From here on the count is the entry's compressed stream as read (plus at most one buffer
    // of read-ahead), whatever its header claims.
    consumed.set(0);
    let inflated = Inflated::new(entry, consumed, *limits, ErrorKind::CorruptZip);
    with_text(inflated, name, parse_workers(limits.threads, false), f)
}

/// Whether the text starting with `head` starts with a BOM (to drop); an archive there is an
/// archive inside an archive, refused.
fn starts_with_bom(head: &[u8], name: &str) -> Result<bool, ReportError> {
    if is_archive(head) {
        return Err(fail(
            name,
            ErrorKind::NestedArchive("the decompressed content is itself an archive".into()),
        ));
    }
    Ok(head.starts_with(BOM))
}

/// Rejects archives inside archives, drops a leading BOM (even a repeated one), runs `f`.
fn with_text<T>(
    reader: impl Read + Send,
    name: &str,
    workers: usize,
    f: impl FnOnce(Text<'_>, usize) -> Result<T, ReportError>,
) -> Result<T, ReportError> {
    let mut text = BufReader::with_capacity(BUF, reader);
    while starts_with_bom(text.fill_buf().map_err(|e| io_fail(name, &e))?, name)? {
        text.consume(BOM.len());
    }
    f(Text::Stream(&mut text), workers)
}

/// Reads a whole small object (a manifest) under `max` bytes, decoding gzip if needed.
pub fn read_small(opened: Opened, name: &str, limits: &Limits) -> Result<Vec<u8>, ReportError> {
    with_decoded(opened, name, limits, |mut r, _| {
        read_capped(&mut r, limits.max_manifest_bytes, "manifest size")
            .map_err(|e| io_fail(name, &e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        for (n, data) in entries {
            w.start_file(*n, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn decode(bytes: Vec<u8>, limits: &Limits) -> Result<String, ReportError> {
        let opened = Opened::Stream(Box::new(io::Cursor::new(bytes)));
        with_decoded(opened, "x", limits, |mut r, _| {
            let mut s = String::new();
            r.read_to_string(&mut s).map_err(|e| io_fail("x", &e))?;
            Ok(s)
        })
    }

    #[test]
    fn plain_gzip_multi_member_and_zip_all_decode() {
        let limits = Limits::default();
        assert_eq!(decode(b"a,b\n".to_vec(), &limits).unwrap(), "a,b\n");
        assert_eq!(decode(gz(b"a,b\n"), &limits).unwrap(), "a,b\n");
        let mut two = gz(b"a,b\n");
        two.extend(gz(b"1,2\n"));
        assert_eq!(decode(two, &limits).unwrap(), "a,b\n1,2\n");
        let z = zip_of(&[("r.csv", b"a,b\n")]);
        assert_eq!(decode(z, &limits).unwrap(), "a,b\n");
    }

    #[test]
    fn a_bom_is_dropped_even_twice() {
        let limits = Limits::default();
        let text = b"\xEF\xBB\xBF\xEF\xBB\xBF\"a\",b\n".to_vec();
        assert_eq!(decode(text, &limits).unwrap(), "\"a\",b\n");
    }

    #[test]
    fn truncated_gzip_and_zip_are_named() {
        let limits = Limits::default();
        let data = gz(&b"InvoiceID,PayerAccountId\n".repeat(200));
        let cut = data[..data.len() / 2].to_vec();
        let err = decode(cut, &limits).unwrap_err();
        assert!(matches!(err.kind, ErrorKind::CorruptGzip(_)), "{err}");
        let z = zip_of(&[("r.csv", &b"a,b\n".repeat(100))]);
        let cut = z[..z.len() - 30].to_vec();
        let err = decode(cut, &limits).unwrap_err();
        assert!(matches!(err.kind, ErrorKind::CorruptZip(_)), "{err}");
    }

    #[test]
    fn nested_archives_and_entry_counts_are_refused() {
        let limits = Limits {
            max_zip_entries: 2,
            ..Limits::default()
        };
        let inner = zip_of(&[("r.csv", b"a\n")]);
        let err = decode(zip_of(&[("inner.zip", &inner)]), &limits).unwrap_err();
        assert!(matches!(err.kind, ErrorKind::NestedArchive(_)), "{err}");
        let err = decode(gz(&gz(b"a\n")), &limits).unwrap_err();
        assert!(matches!(err.kind, ErrorKind::NestedArchive(_)), "{err}");
        let three = zip_of(&[("a.csv", b"a\n"), ("b.csv", b"b\n"), ("c.csv", b"c\n")]);
        let err = decode(three, &limits).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Limit("more than 2 zip entries".into()));
        let two = zip_of(&[("a.csv", b"a\n"), ("b.csv", b"b\n")]);
        assert!(decode(two, &limits)
            .unwrap_err()
            .to_string()
            .contains("holds 2 files"));
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_ratio_cap() {
        let limits = Limits {
            max_ratio: 50,
            ..Limits::default()
        };
        let bomb = gz(&vec![b'a'; 8 << 20]);
        let err = decode(bomb, &limits).unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::Limit("compression ratio over 50:1".into())
        );
    }

    #[test]
    fn zip_decompressed_size_is_capped_even_when_declared_small() {
        let limits = Limits {
            max_decompressed_bytes: 1000,
            ..Limits::default()
        };
        let z = zip_of(&[("r.csv", &vec![b'a'; 5000])]);
        let err = decode(z, &limits).unwrap_err();
        assert!(
            err.to_string()
                .contains("decompressed size over 1000 bytes"),
            "{err}"
        );
    }
}
