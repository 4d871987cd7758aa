//! The audit log's Merkle tree against the published test vectors: every inclusion and
//! consistency vector of transparency-dev/merkle is judged as it says (tests/fixtures/merkle),
//! and the proofs truyxuat makes for the vectors' tree are the vectors' own.

use std::path::{Path, PathBuf};

use serde_json::Value;
use truyxuat::domain::tlog::{self, ConsistencyProof, Hash, Hashes, InclusionProof};

fn vectors(kind: &str) -> Vec<(PathBuf, Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/merkle/testdata");
    let mut found = Vec::new();
    let mut folders = vec![root.join(kind)];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).unwrap();
                found.push((path, serde_json::from_str(&text).unwrap()));
            }
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

fn strings(v: &Value) -> Vec<String> {
    // A vector writes an empty proof as null.
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

fn inclusion(v: &Value) -> InclusionProof {
    InclusionProof {
        leaf_idx: v["leafIdx"].as_u64().unwrap(),
        tree_size: v["treeSize"].as_u64().unwrap(),
        root: v["root"].as_str().unwrap().to_owned(),
        leaf_hash: v["leafHash"].as_str().unwrap().to_owned(),
        proof: strings(&v["proof"]),
    }
}

fn consistency(v: &Value) -> ConsistencyProof {
    ConsistencyProof {
        size1: v["size1"].as_u64().unwrap(),
        size2: v["size2"].as_u64().unwrap(),
        root1: v["root1"].as_str().unwrap().to_owned(),
        root2: v["root2"].as_str().unwrap().to_owned(),
        proof: strings(&v["proof"]),
    }
}

#[test]
fn every_inclusion_vector_is_judged_as_it_says() {
    let all = vectors("inclusion");
    assert!(all.len() >= 90, "{}", all.len());
    for (path, v) in &all {
        let holds = inclusion(v).verify();
        assert_eq!(
            holds,
            !v["wantErr"].as_bool().unwrap(),
            "{}",
            path.display()
        );
    }
}

#[test]
fn every_consistency_vector_is_judged_as_it_says() {
    let all = vectors("consistency");
    assert!(all.len() >= 90, "{}", all.len());
    for (path, v) in &all {
        let holds = consistency(v).verify();
        assert_eq!(
            holds,
            !v["wantErr"].as_bool().unwrap(),
            "{}",
            path.display()
        );
    }
}

/// The eight leaves of RFC 6962's test tree, which the vectors' happy paths prove.
fn rfc6962_tree() -> (Hashes, Vec<Hash>) {
    let leaves: [&[u8]; 8] = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ];
    let hashes: Vec<Hash> = leaves
        .iter()
        .map(|l| Hash(truyxuat::domain::audit::leaf_hash(l)))
        .collect();
    let mut tree = Hashes::default();
    tlog::extend(0, &hashes, &mut tree).unwrap();
    (tree, hashes)
}

#[test]
fn the_proofs_made_for_the_vectors_tree_are_the_vectors_happy_paths() {
    let (tree, leaves) = rfc6962_tree();
    let mut checked = 0;
    for (path, v) in vectors("inclusion") {
        if !path.ends_with("happy-path.json") {
            continue;
        }
        let wanted = inclusion(&v);
        let proof = tlog_tiles::prove_record(wanted.tree_size, wanted.leaf_idx, &tree).unwrap();
        let root = tlog_tiles::tree_hash(wanted.tree_size, &tree).unwrap();
        let made = InclusionProof {
            leaf_idx: wanted.leaf_idx,
            tree_size: wanted.tree_size,
            root: tlog::base64(&root),
            leaf_hash: tlog::base64(&leaves[wanted.leaf_idx as usize]),
            proof: proof.iter().map(tlog::base64).collect(),
        };
        assert_eq!(made, wanted, "{}", path.display());
        checked += 1;
    }
    for (path, v) in vectors("consistency") {
        if !path.ends_with("happy-path.json") {
            continue;
        }
        let wanted = consistency(&v);
        if wanted.size1 == 0 || wanted.size1 == wanted.size2 {
            continue;
        }
        let proof = tlog_tiles::prove_tree(wanted.size2, wanted.size1, &tree).unwrap();
        let made = ConsistencyProof {
            size1: wanted.size1,
            size2: wanted.size2,
            root1: tlog::base64(&tlog_tiles::tree_hash(wanted.size1, &tree).unwrap()),
            root2: tlog::base64(&tlog_tiles::tree_hash(wanted.size2, &tree).unwrap()),
            proof: proof.iter().map(tlog::base64).collect(),
        };
        assert_eq!(made, wanted, "{}", path.display());
        checked += 1;
    }
    assert!(checked >= 6, "{checked}");
}

/// The example of C2SP signed-note (c2sp.org/signed-note, "Verifier keys", at C2SP/C2SP
/// commit 5ba5ee830903e91240fc6f9f3a7a9293d49e69c9): its verifier key and note, which the
/// same code that opens truyxuat's checkpoints must accept, and refuse once altered.
#[test]
fn the_signed_note_example_of_the_c2sp_spec_verifies() {
    let vkey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    let note = "This is an example message.\n\n\
                — example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
    let text = truyxuat::auditkey::open(vkey, note.as_bytes()).expect("the example verifies");
    assert_eq!(text, "This is an example message.\n");
    let altered = note.replace("example message", "examples message");
    assert!(truyxuat::auditkey::open(vkey, altered.as_bytes()).is_none());
    let other_key = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2l";
    assert!(truyxuat::auditkey::open(other_key, note.as_bytes()).is_none());
}
