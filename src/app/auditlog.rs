//! The audit log as a transparency log: growing its Merkle tree and signing checkpoints of
//! it, the proofs and tiles it serves, and the check that recomputes everything from the
//! stored entries (`truyxuat audit verify`).
//!
//! The tree is grown after the entries are committed, never inside a registry write (so an
//! audit entry costs a write only its row): by the checkpointer every minute while entries
//! arrive, and on demand.

use std::collections::HashMap;

use super::permissions::Target;
use super::{App, Caller, Error};
use crate::auditkey::AuditKey;
use crate::domain::tlog::{self, ConsistencyProof, Hash, Hashes, InclusionProof, Wanted};
use crate::store::StoredCheckpoint;
use tlog_tiles::{HashReader, Tile};

/// Entries read at a time while the tree grows or is checked.
const CHUNK: i64 = 10_000;

/// Reads a computation's stored hashes: first only noting which it needs, then from what was
/// fetched.
enum Reader {
    Noting(Wanted),
    Reading(Hashes),
}

impl HashReader for Reader {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        match self {
            Reader::Noting(wanted) => wanted.read_hashes(indexes),
            Reader::Reading(hashes) => hashes.read_hashes(indexes),
        }
    }
}

fn tree_error(e: tlog_tiles::Error) -> Error {
    Error::Internal(format!("audit tree: {e}"))
}

/// Runs `compute` on the stored hashes it reads, fetched from the store: once to learn
/// which, then on them.
async fn read_off<T>(
    app: &App,
    compute: impl Fn(&Reader) -> Result<T, tlog_tiles::Error>,
) -> Result<T, Error> {
    let noting = Reader::Noting(Wanted::default());
    compute(&noting).map_err(tree_error)?;
    let Reader::Noting(wanted) = noting else {
        unreachable!("made above as Noting")
    };
    let fetched = app.store.audit_tree_hashes(&wanted.indexes()).await?;
    let hashes = Hashes(fetched.into_iter().map(|(i, h)| (i, Hash(h))).collect());
    compute(&Reader::Reading(hashes)).map_err(tree_error)
}

/// The size of the tree the latest checkpoint signs (0 before the first).
pub async fn tree_size(app: &App) -> Result<u64, Error> {
    Ok(app.store.latest_checkpoint().await?.map_or(0, |c| c.size))
}

/// Grows the tree to every entry committed and signs a checkpoint of it, when the log has
/// grown since the last one; returns the latest checkpoint (None for an empty log).
pub async fn checkpoint(app: &App, key: &AuditKey) -> Result<Option<StoredCheckpoint>, Error> {
    let latest = app.store.latest_checkpoint().await?;
    let old = latest.as_ref().map_or(0, |c| c.size);
    let fetched = app.store.audit_tree_hashes(&tlog::frontier(old)).await?;
    let mut known = Hashes(fetched.into_iter().map(|(i, h)| (i, Hash(h))).collect());
    let mut size = old;
    loop {
        let leaves = app.store.audit_leaf_hashes(size as i64, CHUNK).await?;
        if leaves.is_empty() {
            break;
        }
        let mut hashes = Vec::with_capacity(leaves.len());
        for (seq, leaf) in leaves {
            if seq as u64 != size + hashes.len() as u64 {
                return Err(Error::Internal(format!(
                    "the audit log has no entry {}: it is not checkpointed until `truyxuat audit verify` passes",
                    size + hashes.len() as u64
                )));
            }
            hashes.push(Hash(leaf));
        }
        let added = tlog::extend(size, &hashes, &mut known).map_err(tree_error)?;
        size += hashes.len() as u64;
        let stored: Vec<(u64, [u8; 32])> = added.iter().map(|(i, h)| (*i, h.0)).collect();
        app.store.add_to_audit_tree(&stored, None).await?;
        // Only the new tree's right edge is needed for what follows.
        let frontier = tlog::frontier(size);
        known.0.retain(|index, _| frontier.contains(index));
    }
    if size == old {
        return Ok(latest);
    }
    let root = tlog_tiles::tree_hash(size, &known).map_err(tree_error)?;
    let text = tlog::checkpoint_text(key.origin(), size, &root);
    let note = key
        .sign(&text)
        .map_err(|e| Error::Internal(e.to_string()))?;
    let made = StoredCheckpoint {
        size,
        root: root.0,
        note,
        made_at: app.now(),
    };
    app.store.add_to_audit_tree(&[], Some(&made)).await?;
    // Another process may have signed the same size first: its checkpoint is the one kept.
    Ok(app.store.checkpoint(size).await?.or(Some(made)))
}

/// The root of the tree of `size` entries (at most the latest checkpoint's).
async fn root(app: &App, size: u64) -> Result<Hash, Error> {
    if let Some(c) = app.store.checkpoint(size).await? {
        return Ok(Hash(c.root));
    }
    read_off(app, |r| tlog_tiles::tree_hash(size, r)).await
}

/// Refuses a size the signed tree does not reach.
async fn within_tree(app: &App, size: u64) -> Result<u64, Error> {
    let signed = tree_size(app).await?;
    if size > signed {
        return Err(super::error::refuse(
            "tree_size",
            format!("the latest checkpoint signs a tree of {signed} entries, not {size}"),
        ));
    }
    Ok(signed)
}

/// A proof that entry `index` is in the tree of `size` entries (the latest checkpoint's
/// when None).
pub async fn inclusion(app: &App, index: u64, size: Option<u64>) -> Result<InclusionProof, Error> {
    let signed = within_tree(app, size.unwrap_or(0)).await?;
    let size = size.unwrap_or(signed);
    if index >= size {
        return Err(super::error::refuse(
            "index",
            format!("the tree of {size} entries has no entry {index}"),
        ));
    }
    let proof = read_off(app, |r| tlog_tiles::prove_record(size, index, r)).await?;
    let leaf = app
        .store
        .audit_tree_hashes(&[tlog_tiles::stored_hash_index(0, index)])
        .await?
        .into_values()
        .next()
        .map(Hash)
        .ok_or_else(|| Error::Internal(format!("audit tree: no leaf {index}")))?;
    Ok(InclusionProof {
        leaf_idx: index,
        tree_size: size,
        root: tlog::base64(&root(app, size).await?),
        leaf_hash: tlog::base64(&leaf),
        proof: proof.iter().map(tlog::base64).collect(),
    })
}

/// A proof that the tree of `size1` entries is a prefix of the tree of `size2` (the latest
/// checkpoint's when None).
pub async fn consistency(
    app: &App,
    size1: u64,
    size2: Option<u64>,
) -> Result<ConsistencyProof, Error> {
    let signed = within_tree(app, size2.unwrap_or(0)).await?;
    let size2 = size2.unwrap_or(signed);
    if size1 > size2 {
        return Err(super::error::refuse(
            "size1",
            format!("a tree of {size1} entries cannot be a prefix of one of {size2}"),
        ));
    }
    let proof = if size1 == 0 || size1 == size2 {
        Vec::new()
    } else {
        read_off(app, |r| tlog_tiles::prove_tree(size2, size1, r)).await?
    };
    Ok(ConsistencyProof {
        size1,
        size2,
        root1: tlog::base64(&root(app, size1).await?),
        root2: tlog::base64(&root(app, size2).await?),
        proof: proof.iter().map(tlog::base64).collect(),
    })
}

/// The bytes of a tile of the signed tree: hashes (public: they say nothing of the
/// entries), or an entry bundle (for those who may read the log: entries name people);
/// None when the tree does not hold that tile (yet, or at that width).
pub async fn tile(
    app: &App,
    caller: Option<&Caller>,
    tile: &Tile,
) -> Result<Option<Vec<u8>>, Error> {
    if tile.is_data() {
        let caller = caller.ok_or(Error::Unauthorized)?;
        caller.require("audit.read", &Target::everything())?;
    }
    let size = tree_size(app).await?;
    let Some(leaves) = tlog::tile_in_tree(tile, size) else {
        return Ok(None);
    };
    if tile.is_data() {
        let entries = app
            .store
            .audit_entries(leaves.start as i64, (leaves.end - leaves.start) as i64)
            .await?;
        if entries.len() as u64 != leaves.end - leaves.start {
            return Err(Error::Internal(
                "the audit log lacks entries it signed".into(),
            ));
        }
        return Ok(Some(tlog::entry_bundle(
            entries.iter().map(|e| e.bytes.as_slice()),
        )));
    }
    read_off(app, |r| tile.read_data(r)).await.map(Some)
}

/// What `truyxuat audit verify` found wrong first, naming the entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    /// The first entry that disagrees (for a checkpoint, the first entry it covers that
    /// may differ).
    pub entry: u64,
    pub reason: String,
}

/// What the check went through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verified {
    pub entries: u64,
    pub checkpoints: usize,
}

/// Recomputes every leaf from the stored entries' bytes and the whole tree from the leaves,
/// and checks them against the stored tree and every signed checkpoint; names the first
/// entry that disagrees.
pub async fn verify(app: &App, vkey: &str) -> Result<Result<Verified, Disagreement>, Error> {
    let checkpoints = app.store.checkpoints().await?;
    let mut signed: HashMap<u64, &StoredCheckpoint> =
        checkpoints.iter().map(|c| (c.size, c)).collect();
    let mut known = Hashes::default();
    let mut size: u64 = 0;
    let mut previous_checkpoint = 0;
    let mut last_state = LastState::default();
    let disagree = |entry: u64, reason: String| Ok(Err(Disagreement { entry, reason }));
    loop {
        let entries = app.store.audit_entries(size as i64, CHUNK).await?;
        if entries.is_empty() {
            break;
        }
        for (i, stored) in entries.iter().enumerate() {
            let n = size + i as u64;
            if stored.seq as u64 != n {
                return disagree(
                    n,
                    format!("entry {n} is missing: the next stored is {}", stored.seq),
                );
            }
        }
        let mut leaves = Vec::with_capacity(entries.len());
        for (i, checked) in check_entries(&entries).into_iter().enumerate() {
            let n = size + i as u64;
            match checked {
                Ok((leaf, state)) => {
                    for (record, after) in state {
                        last_state.0.insert(record, (n, after));
                    }
                    leaves.push(leaf);
                }
                Err(reason) => return disagree(n, format!("entry {n} {reason}")),
            }
        }
        let added = tlog::extend(size, &leaves, &mut known).map_err(tree_error)?;
        // The stored tree must hold what the entries give: the hashes these leaves add are
        // numbered in one run.
        let end = size + leaves.len() as u64;
        let stored = app
            .store
            .audit_tree_hash_range(
                tlog_tiles::stored_hash_index(0, size),
                tlog_tiles::stored_hash_index(0, end),
            )
            .await?;
        for (index, hash) in &added {
            if let Some(kept) = stored.get(index)
                && *kept != hash.0
            {
                let (level, n) = tlog_tiles::split_stored_hash_index(*index);
                let first = n << level;
                return disagree(
                    first,
                    format!(
                        "the stored tree differs from the entries from entry {first} on (its hash of level {level}, number {n})"
                    ),
                );
            }
        }
        // Every checkpoint this chunk reaches: the root the entries give, and the signature.
        for n in size + 1..=size + leaves.len() as u64 {
            if let Some(c) = signed.remove(&n) {
                let frontier: HashMap<u64, Hash> = tlog::frontier(n)
                    .into_iter()
                    .filter_map(|i| known.0.get(&i).map(|h| (i, *h)))
                    .collect();
                let root = tlog_tiles::tree_hash(n, &Hashes(frontier)).map_err(tree_error)?;
                if root.0 != c.root || !note_signs(vkey, &c.note, n, &root) {
                    return disagree(
                        previous_checkpoint,
                        format!(
                            "the checkpoint of {n} entries signed at {} does not match the entries: one of entries {previous_checkpoint} to {} differs from what was signed",
                            c.made_at,
                            n - 1
                        ),
                    );
                }
                previous_checkpoint = n;
            }
        }
        size += leaves.len() as u64;
        let frontier = tlog::frontier(size);
        known.0.retain(|index, _| frontier.contains(index));
    }
    if let Some(lost) = signed.keys().min() {
        return disagree(
            size,
            format!(
                "a checkpoint signs {lost} entries but the log holds {size}: entries from {size} on are gone"
            ),
        );
    }
    if let Some(d) = last_state.differences(app).await?.into_iter().next() {
        return Ok(Err(d));
    }
    Ok(Ok(Verified {
        entries: size,
        checkpoints: checkpoints.len(),
    }))
}

/// The records whose state the log gives: by (kind, id), the last entry's number and the
/// record as it left it.
#[derive(Default)]
struct LastState(HashMap<(&'static str, i64), (u64, serde_json::Value)>);

/// The kinds of record checked against their last entry, and the fields they show that
/// another record's change may move without an entry of theirs (a name joined in).
const STATEFUL: [(&str, &[&str]); 4] = [
    ("certification", &["issuer_name"]),
    ("lot", &[]),
    ("product", &["producer_name"]),
    ("recall", &[]),
];

/// A record and the state an entry leaves it in.
type RecordState = ((&'static str, i64), serde_json::Value);

/// One stored entry checked: its bytes in canonical form, its leaf hash theirs; its leaf,
/// and the states it leaves records of the checked kinds in (a recall's entry holds the
/// recall and each lot it moved).
fn check_entry(
    stored: &crate::domain::audit::StoredEntry,
) -> Result<(Hash, Vec<RecordState>), String> {
    let entry = stored
        .entry()
        .map_err(|e| format!("is not an audit entry: {e}"))?;
    if entry.canonical_bytes().ok().as_deref() != Some(stored.bytes.as_slice()) {
        return Err("is not in its canonical form".into());
    }
    let leaf = crate::domain::audit::leaf_hash(&stored.bytes);
    if leaf != stored.leaf_hash {
        return Err("has bytes that do not give its leaf hash".into());
    }
    let id = entry.entity.id.as_i64();
    let states = match (entry.entity.kind.as_str(), id, entry.after) {
        ("recall", Some(id), Some(mut after)) => {
            let mut states = vec![(("recall", id), after["recall"].take())];
            if let Some(lots) = after["lots"].as_array_mut() {
                for lot in lots {
                    if let Some(lot_id) = lot["id"].as_i64() {
                        states.push((("lot", lot_id), lot.take()));
                    }
                }
            }
            states
        }
        (kind, Some(id), Some(after)) => STATEFUL
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(kind, _)| ((*kind, id), after))
            .into_iter()
            .collect(),
        _ => Vec::new(),
    };
    Ok((Hash(leaf), states))
}

/// `check_entry` of each entry, in order, on every core: parsing and writing each entry
/// again is most of `verify`'s time.
fn check_entries(
    entries: &[crate::domain::audit::StoredEntry],
) -> Vec<Result<(Hash, Vec<RecordState>), String>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let part = entries.len().div_ceil(cores).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = entries
            .chunks(part)
            .map(|chunk| {
                let checking =
                    scope.spawn(move || chunk.iter().map(check_entry).collect::<Vec<_>>());
                (chunk.len(), checking)
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|(len, checking)| {
                checking.join().unwrap_or_else(|_| {
                    (0..len)
                        .map(|_| Err("could not be checked".into()))
                        .collect()
                })
            })
            .collect()
    })
}

impl LastState {
    /// Each record that is not as its last entry left it, by that entry's number.
    async fn differences(self, app: &App) -> Result<Vec<Disagreement>, Error> {
        let mut found = Vec::new();
        let mut records: Vec<_> = self.0.into_iter().collect();
        records.sort_by_key(|(_, (n, _))| *n);
        for ((kind, id), (n, logged)) in records {
            let now = match kind {
                "certification" => app.store.certification(id).await?.map(|r| super::json(&r)),
                "lot" => app.store.lot(id).await?.map(|r| super::json(&r)),
                "recall" => app.store.recall(id).await?.map(|r| super::json(&r)),
                _ => app.store.product(id).await?.map(|r| super::json(&r)),
            }
            .transpose()?
            .map(|v| as_logged(&v))
            .transpose()?;
            let ignored = STATEFUL
                .iter()
                .find(|(k, _)| *k == kind)
                .map_or(&[][..], |(_, i)| i);
            let field = changed_field(&logged, now.as_ref(), ignored);
            if let Some(field) = field {
                found.push(Disagreement {
                    entry: n,
                    reason: format!(
                        "{kind} {id} is not as its last entry ({n}) left it: its {field} was changed without an entry"
                    ),
                });
                // The first such record names the entry; the rest follow from it.
                break;
            }
        }
        Ok(found)
    }
}

/// A record's JSON as an entry holds it: through its canonical bytes (RFC 8785), which
/// write 1500.0 as 1500.
fn as_logged(value: &serde_json::Value) -> Result<serde_json::Value, Error> {
    crate::domain::audit::canonical_json(value)
        .and_then(|bytes| serde_json::from_slice(&bytes))
        .map_err(|e| Error::Internal(format!("a record as the log holds it: {e}")))
}

/// The first field in which `now` differs from `logged` (a removed record: "record").
fn changed_field(
    logged: &serde_json::Value,
    now: Option<&serde_json::Value>,
    ignored: &[&str],
) -> Option<String> {
    let Some(now) = now else {
        return Some("record (removed)".into());
    };
    let (Some(logged), Some(now)) = (logged.as_object(), now.as_object()) else {
        return (logged != now).then(|| "record".into());
    };
    let mut keys: Vec<&String> = logged.keys().chain(now.keys()).collect();
    keys.sort();
    keys.dedup();
    // A field an older entry did not write reads as null.
    let null = serde_json::Value::Null;
    keys.into_iter()
        .filter(|k| !ignored.contains(&k.as_str()))
        .find(|k| logged.get(*k).unwrap_or(&null) != now.get(*k).unwrap_or(&null))
        .cloned()
}

/// Whether `note` is a checkpoint of `size` entries and `root`, signed by `vkey`'s key.
fn note_signs(vkey: &str, note: &str, size: u64, root: &Hash) -> bool {
    crate::auditkey::open(vkey, note.as_bytes()).is_some_and(|text| {
        let mut lines = text.lines().skip(1);
        lines.next() == Some(size.to_string().as_str())
            && lines.next() == Some(tlog::base64(root).as_str())
    })
}

/// Checks a checkpoint saved earlier (a C2SP signed note of this log) against today's
/// tree: its signature, and a consistency proof from it to the latest checkpoint.
pub async fn prove(app: &App, vkey: &str, saved: &[u8]) -> Result<ProofOutcome, Error> {
    let Some(text) = crate::auditkey::open(vkey, saved) else {
        return Ok(ProofOutcome::NotSigned);
    };
    let mut lines = text.lines();
    let (_origin, size, root) = (lines.next(), lines.next(), lines.next());
    let (Some(size), Some(root)) = (
        size.and_then(|s| s.parse::<u64>().ok()),
        root.and_then(tlog::from_base64),
    ) else {
        return Ok(ProofOutcome::NotSigned);
    };
    let latest = tree_size(app).await?;
    if size > latest {
        return Ok(ProofOutcome::Inconsistent {
            size,
            latest,
            reason: format!(
                "the saved checkpoint signs {size} entries; the log now signs {latest}"
            ),
        });
    }
    let mut proof = consistency(app, size, Some(latest)).await?;
    // The proof is checked against the saved root, not the one the log gives today.
    proof.root1 = tlog::base64(&root);
    if proof.verify() {
        Ok(ProofOutcome::Consistent { size, latest })
    } else {
        Ok(ProofOutcome::Inconsistent {
            size,
            latest,
            reason:
                "the log's tree today does not hold the saved tree as its prefix: it was rewritten"
                    .into(),
        })
    }
}

/// What `prove` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofOutcome {
    /// The saved checkpoint's tree is a prefix of today's: the log only grew.
    Consistent { size: u64, latest: u64 },
    Inconsistent {
        size: u64,
        latest: u64,
        reason: String,
    },
    /// Not a checkpoint signed by this log's key.
    NotSigned,
}

/// Signs a checkpoint of the log now, then every `every` while it grows, in the background.
pub fn start_checkpointer(app: App, key: AuditKey, every: std::time::Duration) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = checkpoint(&app, &key).await {
                tracing::error!(error = %e, "cannot sign a checkpoint of the audit log");
            }
            tokio::time::sleep(every).await;
        }
    });
}

/// What an entry changed in one field of its record, as JSON text (None: absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// One entry of a record's history, as an inspector reads it.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub seq: u64,
    pub entry: crate::domain::audit::AuditEntry,
    pub changes: Vec<FieldChange>,
    /// Whether the entry's inclusion proof checks out against the latest signed checkpoint;
    /// None while no checkpoint covers it yet.
    pub proved: Option<bool>,
}

/// The kinds of record whose history can be read.
pub const HISTORY_KINDS: [&str; 7] = [
    "organization",
    "product",
    "certification",
    "lot",
    "batch",
    "recall",
    "report",
];

/// Every entry about record `kind` `id`, oldest first, each with what it changed and its
/// inclusion proof checked against the latest checkpoint (signed by `vkey`'s key); and that
/// checkpoint.
pub async fn history(
    app: &App,
    caller: &Caller,
    vkey: &str,
    kind: &str,
    id: i64,
) -> Result<(Vec<HistoryEntry>, Option<StoredCheckpoint>), Error> {
    caller.require("audit.read", &Target::everything())?;
    if !HISTORY_KINDS.contains(&kind) {
        return Err(Error::NotFound("record"));
    }
    let mut stored = app.store.audit_entries_of(kind, &id.to_string()).await?;
    if kind == "lot" {
        // A recall's entry is on the recall and holds the lots it moved.
        for recall in app.store.recalls_of_lot(id).await? {
            let of_recall = app
                .store
                .audit_entries_of("recall", &recall.id.to_string())
                .await?;
            stored.extend(of_recall);
        }
        stored.sort_by_key(|e| e.seq);
    }
    let checkpoint = app
        .store
        .latest_checkpoint()
        .await?
        .filter(|c| note_signs(vkey, &c.note, c.size, &Hash(c.root)));
    let mut history = Vec::with_capacity(stored.len());
    for s in stored {
        let entry = s
            .entry()
            .map_err(|e| Error::Internal(format!("audit entry {}: {e}", s.seq)))?;
        let proved = match &checkpoint {
            Some(c) if (s.seq as u64) < c.size => {
                let proof = inclusion(app, s.seq as u64, Some(c.size)).await?;
                let leaf = tlog::base64(&Hash(crate::domain::audit::leaf_hash(&s.bytes)));
                Some(
                    proof.verify()
                        && proof.leaf_hash == leaf
                        && proof.root == tlog::base64(&Hash(c.root)),
                )
            }
            _ => None,
        };
        history.push(HistoryEntry {
            seq: s.seq as u64,
            changes: changes(entry.before.as_ref(), entry.after.as_ref()),
            entry,
            proved,
        });
    }
    Ok((history, checkpoint))
}

/// The fields whose value differs between `before` and `after`, in name order; the times a
/// write stamps on every record are left out. A record held within another (a recall's
/// `recall`) is read field by field ("recall.reason"); a list of records (a recall's
/// `lots`) record by record, each named by its code ("lots NT-HT2026.recalled_at").
fn changes(
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Vec<FieldChange> {
    let mut found = Vec::new();
    fields_changed("", before, after, &mut found);
    found
}

fn fields_changed(
    name: &str,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
    found: &mut Vec<FieldChange>,
) {
    use serde_json::Value;
    let absent = |v: Option<&Value>| v.is_none_or(Value::is_null);
    let record = |v: Option<&Value>| v.is_some_and(Value::is_object) || absent(v);
    let records = |v: Option<&Value>| {
        v.and_then(Value::as_array)
            .is_some_and(|a| a.iter().all(|r| r.get("id").is_some()))
    };
    let is_object = |v: Option<&Value>| v.is_some_and(Value::is_object);
    if (is_object(before) || is_object(after)) && record(before) && record(after) {
        let empty = serde_json::Map::new();
        let b = before.and_then(Value::as_object).unwrap_or(&empty);
        let a = after.and_then(Value::as_object).unwrap_or(&empty);
        let mut fields: Vec<&String> = b.keys().chain(a.keys()).collect();
        fields.sort();
        fields.dedup();
        for f in fields {
            let (bv, av) = (b.get(f), a.get(f));
            let stamp = matches!(f.as_str(), "created_at" | "updated_at");
            if stamp || bv == av || (absent(bv) && absent(av)) {
                continue;
            }
            let inner = if name.is_empty() {
                f.clone()
            } else {
                format!("{name}.{f}")
            };
            fields_changed(&inner, bv, av, found);
        }
    } else if records(before) && records(after) {
        records_changed(name, before, after, found);
    } else if before != after {
        let text = |v: Option<&Value>| match v {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
        };
        found.push(FieldChange {
            field: name.to_owned(),
            before: text(before),
            after: text(after),
        });
    }
}

/// Two lists of records compared record by record (matched by id, named by code or id).
fn records_changed(
    name: &str,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
    found: &mut Vec<FieldChange>,
) {
    let list =
        |v: Option<&serde_json::Value>| v.and_then(|v| v.as_array()).cloned().unwrap_or_default();
    let (b, a) = (list(before), list(after));
    let mut ids: Vec<serde_json::Value> = b.iter().chain(&a).map(|r| r["id"].clone()).collect();
    ids.dedup();
    let mut seen = Vec::new();
    for id in ids {
        if seen.contains(&id) {
            continue;
        }
        seen.push(id.clone());
        let of = |list: &[serde_json::Value]| list.iter().find(|r| r["id"] == id).cloned();
        let (rb, ra) = (of(&b), of(&a));
        let label = ra
            .as_ref()
            .or(rb.as_ref())
            .and_then(|r| r["code"].as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("#{id}"));
        fields_changed(&format!("{name} {label}"), rb.as_ref(), ra.as_ref(), found);
    }
}
