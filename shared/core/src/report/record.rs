//! One CSV record as the row logic sees it: field bounds over the chunk it was read from (no copy),
//! and where it sits in the report.

use super::index::Unescaped;

/// Where a record sits in a report: the manifest part (0 for a single object), the chunk of that
/// object, and the line within the chunk (1-based, counted from the chunk's first byte). Positions
/// order the way the rows do in the file, so "the first row that…" is the smallest position, and
/// work done on chunks in any order can still agree on what came first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub part: u32,
    pub chunk: u32,
    pub line: u64,
}

/// A field stored in the record's own buffer (quoted with `""` inside, or with text after its
/// closing quote) rather than in the chunk: its start has this bit set.
pub(super) const OWNED: u32 = 1 << 31;

/// A record: borrowed field bounds, fields past the end read as empty. The exact scanner gives
/// each field's bounds; the index gives where each field ends, and a field is cut (its quotes
/// taken off) only when it is asked for.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    chunk: &'a [u8],
    owned: &'a [u8],
    bounds: &'a [(u32, u32)],
    /// From the index: the record's first byte, each field's end, and the fields unescaped into
    /// `owned`.
    indexed: Option<Indexed<'a>>,
    pos: Pos,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Indexed<'a> {
    pub start: u32,
    pub ends: &'a [u32],
    pub unescaped: &'a [Unescaped],
}

impl<'a> Record<'a> {
    pub(super) fn new(
        chunk: &'a [u8],
        owned: &'a [u8],
        bounds: &'a [(u32, u32)],
        pos: Pos,
    ) -> Self {
        Self {
            chunk,
            owned,
            bounds,
            indexed: None,
            pos,
        }
    }

    pub(super) fn indexed(
        chunk: &'a [u8],
        owned: &'a [u8],
        indexed: Indexed<'a>,
        pos: Pos,
    ) -> Self {
        Self {
            chunk,
            owned,
            bounds: &[],
            indexed: Some(indexed),
            pos,
        }
    }

    /// The field's bytes as the CSV parser gives them (quotes removed, `""` unescaped).
    #[inline(always)]
    pub fn get(&self, idx: usize) -> Option<&'a [u8]> {
        if let Some(ix) = &self.indexed {
            return ix.get(self.chunk, self.owned, idx);
        }
        let &(start, end) = self.bounds.get(idx)?;
        Some(if start & OWNED != 0 {
            &self.owned[(start & !OWNED) as usize..end as usize]
        } else {
            &self.chunk[start as usize..end as usize]
        })
    }

    pub fn len(&self) -> usize {
        match &self.indexed {
            Some(ix) => ix.ends.len(),
            None => self.bounds.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (0..self.len()).map(|i| self.get(i).unwrap_or_default())
    }

    pub fn pos(&self) -> Pos {
        self.pos
    }
}

impl<'a> Indexed<'a> {
    #[inline(always)]
    fn get(&self, chunk: &'a [u8], owned: &'a [u8], idx: usize) -> Option<&'a [u8]> {
        let end = *self.ends.get(idx)? as usize;
        let start = match idx {
            0 => self.start as usize,
            _ => self.ends[idx - 1] as usize + 1,
        };
        let field = &chunk[start..end];
        if field.first() != Some(&b'"') {
            return Some(field);
        }
        // Quoted (the index only reads regular CSV, so the closing quote ends the field).
        if let Some(&(_, from, to)) = self.unescaped.iter().find(|u| u.0 as usize == idx) {
            return Some(&owned[from as usize..to as usize]);
        }
        Some(&field[1..field.len() - 1])
    }
}

/// A record built from values, for tests: `OwnedRecord::new(&["a", "b"]).record()`.
#[derive(Debug, Clone, Default)]
pub struct OwnedRecord {
    bytes: Vec<u8>,
    bounds: Vec<(u32, u32)>,
    pos: Pos,
}

impl OwnedRecord {
    pub fn new<S: AsRef<[u8]>>(fields: &[S]) -> Self {
        let mut out = Self::default();
        for f in fields {
            let start = out.bytes.len() as u32;
            out.bytes.extend_from_slice(f.as_ref());
            out.bounds.push((start, out.bytes.len() as u32));
        }
        out
    }

    pub fn at(mut self, pos: Pos) -> Self {
        self.pos = pos;
        self
    }

    pub fn record(&self) -> Record<'_> {
        Record::new(&self.bytes, &[], &self.bounds, self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_come_from_the_chunk_or_the_owned_buffer() {
        let chunk = b"ab,c";
        let owned = b"x\"y";
        let bounds = [(0, 2), (3, 4), (OWNED, 3)];
        let r = Record::new(chunk, owned, &bounds, Pos::default());
        assert_eq!(r.get(0), Some(&b"ab"[..]));
        assert_eq!(r.get(1), Some(&b"c"[..]));
        assert_eq!(r.get(2), Some(&b"x\"y"[..]));
        assert_eq!(r.get(3), None);
        assert_eq!(r.iter().count(), 3);
    }

    #[test]
    fn positions_order_like_the_file() {
        let p = |part, chunk, line| Pos { part, chunk, line };
        assert!(p(0, 1, 1) > p(0, 0, 900));
        assert!(p(1, 0, 1) > p(0, 7, 900));
        assert!(p(0, 0, 3) < p(0, 0, 4));
    }
}
