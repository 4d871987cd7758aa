//! The audit log as a transparency log: its entries are the leaves of an RFC 6962 / RFC 9162
//! Merkle tree, served as C2SP tlog-tiles (`tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>`) under
//! signed C2SP checkpoints. Pure: the hashing, the proofs and the tile geometry are the
//! `tlog_tiles` crate's (a port of Go's sumdb/tlog); this module adds what truyxuat decides:
//! the paths, the entry bundles, the checkpoint text and the proofs' JSON.
//!
//! The tree's "stored hashes" (the hash of every complete subtree, about two a leaf, as
//! sumdb numbers them) are what the store keeps; any root, proof or tile is read off them.

use std::cell::RefCell;
use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
pub use tlog_tiles::Hash;
use tlog_tiles::{HashReader, Tile};

/// Hashes a tile holds: C2SP tlog-tiles fixes the height at 8.
pub const TILE_HEIGHT: u8 = 8;
/// Entries (or hashes) in a full tile.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;

/// Stored hashes by index: what a computation reads, fetched beforehand.
#[derive(Debug, Default)]
pub struct Hashes(pub HashMap<u64, Hash>);

impl HashReader for Hashes {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|i| {
                self.0
                    .get(i)
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

/// A reader that only notes which stored hashes a computation asks for (answering zeros):
/// which ones a root, proof or tile needs depends on the sizes alone, not on the hashes, so
/// a computation is run once to learn them and again on the fetched hashes.
#[derive(Debug, Default)]
pub struct Wanted(RefCell<Vec<u64>>);

impl Wanted {
    pub fn indexes(self) -> Vec<u64> {
        let mut wanted = self.0.into_inner();
        wanted.sort_unstable();
        wanted.dedup();
        wanted
    }
}

impl HashReader for Wanted {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        self.0.borrow_mut().extend_from_slice(indexes);
        Ok(vec![Hash([0; 32]); indexes.len()])
    }
}

/// The stored hashes a tree of `size` leaves needs before leaf `size` can be added: its
/// complete subtrees on the right edge (every earlier one is the left part of these).
pub fn frontier(size: u64) -> Vec<u64> {
    (0..64u8)
        .filter(|level| (size >> level) & 1 == 1)
        .map(|level| tlog_tiles::stored_hash_index(level, (size >> level) - 1))
        .collect()
}

/// Adds leaves `first..` (their leaf hashes, in order) to a tree of `first` leaves whose
/// frontier `known` holds; returns the new stored hashes as (index, hash), in index order.
pub fn extend(
    first: u64,
    leaf_hashes: &[Hash],
    known: &mut Hashes,
) -> Result<Vec<(u64, Hash)>, tlog_tiles::Error> {
    let mut added = Vec::new();
    for (i, leaf) in leaf_hashes.iter().enumerate() {
        let n = first + i as u64;
        let hashes = tlog_tiles::stored_hashes_for_record_hash(n, *leaf, known)?;
        let start = tlog_tiles::stored_hash_index(0, n);
        for (k, hash) in hashes.into_iter().enumerate() {
            let index = start + k as u64;
            known.0.insert(index, hash);
            added.push((index, hash));
        }
    }
    Ok(added)
}

/// Base64 of a hash, as checkpoints and proofs write it.
pub fn base64(hash: &Hash) -> String {
    BASE64.encode(hash.0)
}

/// A hash read back from base64.
pub fn from_base64(text: &str) -> Option<Hash> {
    let bytes = BASE64.decode(text).ok()?;
    Some(Hash(bytes.try_into().ok()?))
}

/// The checkpoint body of a tree (C2SP tlog-checkpoint: origin, size, root), before its
/// signatures.
pub fn checkpoint_text(origin: &str, size: u64, root: &Hash) -> String {
    format!("{origin}\n{size}\n{}\n", base64(root))
}

/// A proof that leaf `leafIdx` is in the tree of `treeSize` leaves, in the JSON of the
/// transparency-dev/merkle test vectors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InclusionProof {
    pub leaf_idx: u64,
    pub tree_size: u64,
    /// The tree's root, base64.
    pub root: String,
    /// The leaf's RFC 6962 hash, base64.
    pub leaf_hash: String,
    /// The audit path, base64, from the leaf up.
    pub proof: Vec<String>,
}

impl InclusionProof {
    /// Whether the proof holds (the root and leaf hash as it says).
    pub fn verify(&self) -> bool {
        let (Some(root), Some(leaf), Some(proof)) = (
            from_base64(&self.root),
            from_base64(&self.leaf_hash),
            hashes(&self.proof),
        ) else {
            return false;
        };
        self.leaf_idx < self.tree_size
            && tlog_tiles::check_record(&proof, self.tree_size, root, self.leaf_idx, leaf).is_ok()
    }
}

/// A proof that the tree of `size1` leaves is a prefix of the tree of `size2`, in the JSON
/// of the transparency-dev/merkle test vectors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConsistencyProof {
    pub size1: u64,
    pub size2: u64,
    pub root1: String,
    pub root2: String,
    pub proof: Vec<String>,
}

impl ConsistencyProof {
    /// Whether the proof holds, as transparency-dev/merkle's `VerifyConsistency` decides:
    /// a proof from the empty tree means nothing and is refused; equal sizes need equal
    /// roots and no proof.
    pub fn verify(&self) -> bool {
        let (Ok(root1), Ok(root2), Some(proof)) = (
            BASE64.decode(&self.root1),
            BASE64.decode(&self.root2),
            hashes(&self.proof),
        ) else {
            return false;
        };
        if self.size1 == 0 || self.size1 > self.size2 {
            return false;
        }
        if self.size1 == self.size2 {
            return proof.is_empty() && root1 == root2;
        }
        let (Ok(root1), Ok(root2)) = (root1.try_into(), root2.try_into()) else {
            return false;
        };
        !proof.is_empty()
            && tlog_tiles::check_tree(&proof, self.size2, Hash(root2), self.size1, Hash(root1))
                .is_ok()
    }
}

fn hashes(texts: &[String]) -> Option<Vec<Hash>> {
    texts.iter().map(|t| from_base64(t)).collect()
}

/// A tile's C2SP path after `tile/`: `<L>/<N>[.p/<W>]` for hashes, `entries/<N>[.p/<W>]`
/// for entry bundles, N in groups of three digits prefixed with `x` but the last.
pub fn tile_path(tile: &Tile) -> String {
    let mut n = tile.level_index();
    let mut digits = format!("{:03}", n % 1000);
    while n >= 1000 {
        n /= 1000;
        digits = format!("x{:03}/{digits}", n % 1000);
    }
    let level = if tile.is_data() {
        "entries".to_owned()
    } else {
        tile.level().to_string()
    };
    let partial = if u64::from(tile.width()) == TILE_WIDTH {
        String::new()
    } else {
        format!(".p/{}", tile.width())
    };
    format!("{level}/{digits}{partial}")
}

/// The tile a C2SP path (after `tile/`) names; None for anything else, including a path
/// written otherwise than `tile_path` writes it.
pub fn parse_tile_path(path: &str) -> Option<Tile> {
    if path.len() > 64 {
        return None;
    }
    let (level, rest) = path.split_once('/')?;
    let (is_data, level) = match level {
        "entries" => (true, 0),
        l if l.len() <= 2 && l.bytes().all(|b| b.is_ascii_digit()) => (false, l.parse().ok()?),
        _ => return None,
    };
    let (number, width) = match rest.split_once(".p/") {
        Some((number, width)) => (number, width.parse::<u32>().ok()?),
        None => (rest, TILE_WIDTH as u32),
    };
    if level >= 64 || !(1..=TILE_WIDTH as u32).contains(&width) {
        return None;
    }
    let mut n: u64 = 0;
    for group in number.split('/') {
        let digits = group.strip_prefix('x').unwrap_or(group);
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        n = n.checked_mul(1000)?.checked_add(digits.parse().ok()?)?;
    }
    let tile = Tile::new(TILE_HEIGHT, level, n, width, is_data);
    (tile_path(&tile) == path).then_some(tile)
}

/// The leaves a tile of a tree of `size` covers: None when the tree does not hold it
/// whole (a full tile of a tree that ends inside it, or a partial one of another width).
pub fn tile_in_tree(tile: &Tile, size: u64) -> Option<std::ops::Range<u64>> {
    let span = TILE_WIDTH.checked_pow(u32::from(tile.level()))?;
    let start = tile
        .level_index()
        .checked_mul(TILE_WIDTH)?
        .checked_mul(span)?;
    let end = start.checked_add(u64::from(tile.width()).checked_mul(span)?)?;
    // Hashes at the tile's level exist for whole subtrees only.
    let width_in_tree = (size / span).checked_sub(start / span)?;
    let fits = u64::from(tile.width()) == width_in_tree.min(TILE_WIDTH);
    (end <= size && fits).then_some(start..end)
}

/// An entry bundle: each entry's length as two bytes, big-endian, then its bytes.
pub fn entry_bundle<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut bundle = Vec::new();
    for entry in entries {
        // An audit entry is far smaller than 64 KiB (its texts are bounded); one that is
        // not would not fit the format, so it is cut rather than mis-framed.
        let length = entry.len().min(usize::from(u16::MAX));
        bundle.extend_from_slice(&(length as u16).to_be_bytes());
        bundle.extend_from_slice(&entry[..length]);
    }
    bundle
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c2sp_tile_paths_read_back_and_refuse_other_spellings() {
        let tile = Tile::new(8, 0, 1_234_067, 256, false);
        assert_eq!(tile_path(&tile), "0/x001/x234/067");
        let partial = Tile::new(8, 1, 3, 17, false);
        assert_eq!(tile_path(&partial), "1/003.p/17");
        let mut data = Tile::new(8, 0, 0, 5, false);
        data.set_is_data();
        assert_eq!(tile_path(&data), "entries/000.p/5");
        for path in ["0/x001/x234/067", "1/003.p/17", "entries/000.p/5"] {
            assert_eq!(tile_path(&parse_tile_path(path).unwrap()), path);
        }
        for bad in [
            "0/1",
            "0/001.p/256",
            "0/001.p/0",
            "0/x000/001",
            "64/000",
            "a/000",
            "0/001/",
            "../000",
        ] {
            assert!(parse_tile_path(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_tile_is_served_only_as_the_tree_holds_it() {
        // A tree of 300 leaves: level 0 has a full tile 0 and tile 1 of width 44; level 1
        // a tile 0 of width 1 (the first 256 leaves).
        let t = |l, n, w| Tile::new(8, l, n, w, false);
        assert_eq!(tile_in_tree(&t(0, 0, 256), 300), Some(0..256));
        assert_eq!(tile_in_tree(&t(0, 1, 44), 300), Some(256..300));
        assert_eq!(tile_in_tree(&t(0, 1, 43), 300), None);
        assert_eq!(tile_in_tree(&t(0, 1, 256), 300), None);
        assert_eq!(tile_in_tree(&t(1, 0, 1), 300), Some(0..256));
        assert_eq!(tile_in_tree(&t(1, 0, 2), 300), None);
        assert_eq!(tile_in_tree(&t(0, 2, 1), 300), None);
    }

    #[test]
    fn entry_bundles_are_length_prefixed() {
        assert_eq!(
            entry_bundle([&b"ab"[..], &b""[..]]),
            vec![0, 2, b'a', b'b', 0, 0]
        );
    }
}
