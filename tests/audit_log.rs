//! The audit log as a transparency log: served as tiles under a signed checkpoint with
//! proofs that check out, and on both databases a direct SQL edit, deletion, reordering or
//! insertion of entries, or a record changed behind the application's back, named by
//! `audit verify` at its entry; a checkpoint saved before a rewrite fails its proof after.

use std::sync::Arc;

use axum::http::StatusCode;
use truyxuat::app::auditlog::{self, ProofOutcome};
use truyxuat::auditkey::AuditKey;
use truyxuat::domain::audit::leaf_hash;
use truyxuat::domain::tlog::{self, InclusionProof};
use truyxuat::store::Store;

use crate::support::changes::{Changes, app_at};
use crate::support::db::TestDb;
use crate::support::fixtures::*;
use crate::support::http::TestApp;

/// Twelve entries: a cooperative, an authority, a product, a certificate, eight lots;
/// returns the certificate's and the product's ids.
async fn twelve_entries(store: &Arc<dyn Store>) -> (i64, i64) {
    let before = store.audit_size().await.unwrap();
    let coop = store
        .create_organization(&cooperative("HTX Chè Cầu Đất").build(), now())
        .await
        .unwrap()
        .id;
    let council = store
        .create_organization(&department("Hội đồng OCOP Lâm Đồng").build(), now())
        .await
        .unwrap()
        .id;
    let product = store
        .create_product(&product(coop, "Chè Ô Long").build(), now())
        .await
        .unwrap()
        .id;
    let cert = store
        .create_certification(
            &ocop(coop, council, "12/QĐ").product(product).build(),
            now(),
        )
        .await
        .unwrap()
        .id;
    for i in 0..8 {
        store
            .create_lot(&lot(product, &format!("CD-{i}")).build(), now())
            .await
            .unwrap();
    }
    assert_eq!(store.audit_size().await.unwrap(), before + 12);
    (cert, product)
}

#[tokio::test]
async fn the_log_is_served_as_tiles_under_a_signed_checkpoint_and_proves_what_it_holds() {
    let app = TestApp::new().await;
    let store = app.db.store.clone();
    let (_, product) = twelve_entries(&store).await;
    let key = &app.audit_key;
    let first = auditlog::checkpoint(&app.app, key).await.unwrap().unwrap();
    let size = store.audit_size().await.unwrap() as u64;
    assert_eq!(first.size, size);

    // The key is published beside the label keys; the checkpoint opens with it.
    let keys = app.get("/.well-known/truyxuat/keys.json").await.json();
    assert_eq!(keys["audit_log_vkey"], key.vkey.as_str());
    let served = app.get("/audit/checkpoint").await;
    assert_eq!(served.status, StatusCode::OK);
    assert!(served.header("content-type").starts_with("text/plain"));
    let text = truyxuat::auditkey::open(&key.vkey, served.body.as_bytes()).expect("signed");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], key.origin());
    assert_eq!(lines[1], size.to_string());

    // The level-0 tile is the leaves' hashes; the root recomputed from it is the signed one.
    let tile = app.get(&format!("/audit/tile/0/000.p/{size}")).await;
    assert_eq!(tile.status, StatusCode::OK, "{}", tile.body);
    assert!(tile.header("cache-control").contains("immutable"));
    let entries = store.audit_entries(0, size as i64).await.unwrap();
    let leaves: Vec<u8> = entries.iter().flat_map(|e| leaf_hash(&e.bytes)).collect();
    assert_eq!(tile.body_bytes, leaves);
    let hashes: Vec<tlog::Hash> = tile
        .body_bytes
        .chunks(32)
        .map(|c| tlog::Hash(c.try_into().unwrap()))
        .collect();
    let mut tree = tlog::Hashes::default();
    tlog::extend(0, &hashes, &mut tree).unwrap();
    let root = tlog_tiles::tree_hash(size, &tree).unwrap();
    assert_eq!(lines[2], tlog::base64(&root));
    // A tile the tree does not hold whole, or a path spelled otherwise: 404.
    for path in ["0/000", "0/000.p/3", "0/0", "1/000.p/1"] {
        let missing = app.get(&format!("/audit/tile/{path}")).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{path}");
    }

    // The entries: only with a token of someone who may read the log.
    let path = format!("/audit/tile/entries/000.p/{size}");
    assert_eq!(app.get(&path).await.status, StatusCode::UNAUTHORIZED);
    let bundle = app
        .get_with(&path, "authorization", &format!("Bearer {}", app.token))
        .await;
    assert_eq!(bundle.status, StatusCode::OK);
    let mut rest = bundle.body_bytes.as_slice();
    for stored in &entries {
        let length = u16::from_be_bytes([rest[0], rest[1]]) as usize;
        assert_eq!(&rest[2..2 + length], stored.bytes.as_slice());
        rest = &rest[2 + length..];
    }
    assert!(rest.is_empty());

    // An inclusion proof of entry 5 holds, for the leaf the entry's bytes give.
    let proof: InclusionProof =
        serde_json::from_value(app.get("/audit/proof/inclusion?index=5").await.json()).unwrap();
    assert!(proof.verify());
    assert_eq!(
        proof.leaf_hash,
        tlog::base64(&tlog::Hash(leaf_hash(&entries[5].bytes)))
    );
    assert_eq!(proof.root, lines[2]);
    let beyond = app
        .get(&format!("/audit/proof/inclusion?index={size}"))
        .await;
    assert_eq!(beyond.status, StatusCode::UNPROCESSABLE_ENTITY);
    let nonsense = app.get("/audit/proof/inclusion?index=-1").await;
    assert_eq!(nonsense.status, StatusCode::BAD_REQUEST);

    // The log grows; the first checkpoint's tree is a prefix of the second's.
    store
        .create_lot(&lot(product, "CD-late").build(), now())
        .await
        .unwrap();
    let second = auditlog::checkpoint(&app.app, key).await.unwrap().unwrap();
    assert_eq!(second.size, size + 1);
    let consistency = app
        .get(&format!("/audit/proof/consistency?size1={size}"))
        .await
        .json();
    let proof: tlog::ConsistencyProof = serde_json::from_value(consistency).unwrap();
    assert_eq!((proof.size1, proof.size2), (size, size + 1));
    assert!(proof.verify());
    // Both checkpoints are kept.
    assert_eq!(store.checkpoints().await.unwrap().len(), 2);
    assert_eq!(
        auditlog::prove(&app.app, &key.vkey, first.note.as_bytes())
            .await
            .unwrap(),
        ProofOutcome::Consistent {
            size,
            latest: size + 1
        }
    );
}

/// The log of twelve entries, checkpointed, on a database a test then edits directly.
async fn checkpointed(db: &TestDb) -> (truyxuat::app::App, AuditKey, (i64, i64)) {
    let store = db.store.clone();
    let ids = twelve_entries(&store).await;
    let app = app_at(&store, now());
    let (key, _) = AuditKey::generate("test.truyxuat.vn/audit").unwrap();
    auditlog::checkpoint(&app, &key).await.unwrap();
    assert!(auditlog::verify(&app, &key.vkey).await.unwrap().is_ok());
    (app, key, ids)
}

/// Runs SQL on the test's database as its administrator would, triggers that keep the log
/// append-only dropped first (an administrator can).
async fn as_administrator(db: &TestDb, statements: &[&str]) {
    if db.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        for drop in [
            "DROP TRIGGER IF EXISTS audit_entries_no_update",
            "DROP TRIGGER IF EXISTS audit_entries_no_delete",
        ] {
            sqlx::query(drop).execute(&pool).await.unwrap();
        }
        for s in statements {
            sqlx::query(s).execute(&pool).await.unwrap();
        }
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::query("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only")
            .execute(&pool)
            .await
            .unwrap();
        for s in statements {
            sqlx::query(s).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }
}

async fn disagreement(app: &truyxuat::app::App, key: &AuditKey) -> (u64, String) {
    let d = auditlog::verify(app, &key.vkey)
        .await
        .unwrap()
        .expect_err("verify must find the edit");
    (d.entry, d.reason)
}

/// The bytes of entry 5 with its lot code changed, as SQL text (hex) on either database.
async fn edited_entry_5(db: &TestDb) -> (String, String) {
    let entry = db.store.audit_entries(5, 1).await.unwrap().remove(0);
    let text = String::from_utf8(entry.bytes).unwrap();
    let edited = text.replace("CD-1", "CD-9");
    assert_ne!(edited, text);
    (
        hex::encode(edited.as_bytes()),
        hex::encode(leaf_hash(edited.as_bytes())),
    )
}

fn blob(db: &TestDb, hex: &str) -> String {
    if db.url.starts_with("sqlite:") {
        format!("X'{hex}'")
    } else {
        format!("'\\x{hex}'::bytea")
    }
}

async fn each_edit_is_named_at_its_entry(db: TestDb, edit: Edit) {
    let (app, key, (cert, _)) = checkpointed(&db).await;
    let (bytes, leaf) = edited_entry_5(&db).await;
    let (bytes, leaf) = (blob(&db, &bytes), blob(&db, &leaf));
    let (entry, reason) = match edit {
        Edit::Bytes => {
            as_administrator(
                &db,
                &[&format!(
                    "UPDATE audit_entries SET entry = {bytes} WHERE seq = 5"
                )],
            )
            .await;
            disagreement(&app, &key).await
        }
        Edit::BytesAndLeaf => {
            as_administrator(
                &db,
                &[&format!(
                    "UPDATE audit_entries SET entry = {bytes}, leaf_hash = {leaf} WHERE seq = 5"
                )],
            )
            .await;
            disagreement(&app, &key).await
        }
        Edit::Deletion => {
            as_administrator(&db, &["DELETE FROM audit_entries WHERE seq = 5"]).await;
            disagreement(&app, &key).await
        }
        Edit::Reordering => {
            as_administrator(
                &db,
                &[
                    "UPDATE audit_entries SET seq = 1000 WHERE seq = 5",
                    "UPDATE audit_entries SET seq = 5 WHERE seq = 6",
                    "UPDATE audit_entries SET seq = 6 WHERE seq = 1000",
                ],
            )
            .await;
            disagreement(&app, &key).await
        }
        Edit::Insertion => {
            // Entries from 5 on moved up one, a forged one put in at 5.
            let mut statements = Vec::new();
            for seq in (5..12).rev() {
                statements.push(format!(
                    "UPDATE audit_entries SET seq = {} WHERE seq = {seq}",
                    seq + 1
                ));
            }
            statements.push(format!(
                "INSERT INTO audit_entries (seq, at, action, entity_type, entity_id, entry, leaf_hash) \
                 SELECT 5, at, action, entity_type, entity_id, {bytes}, {leaf} FROM audit_entries WHERE seq = 6"
            ));
            let statements: Vec<&str> = statements.iter().map(String::as_str).collect();
            as_administrator(&db, &statements).await;
            disagreement(&app, &key).await
        }
        Edit::RecordBehindTheBack => {
            as_administrator(
                &db,
                &[&format!(
                    "UPDATE certifications SET valid_until = '2030-01-14' WHERE id = {cert}"
                )],
            )
            .await;
            disagreement(&app, &key).await
        }
    };
    let wanted = match edit {
        // The certificate's only entry is number 3.
        Edit::RecordBehindTheBack => 3,
        _ => 5,
    };
    assert_eq!(entry, wanted, "{edit:?}: {reason}");
    match edit {
        Edit::Bytes => assert!(reason.contains("leaf hash"), "{reason}"),
        Edit::Deletion => assert!(reason.contains("missing"), "{reason}"),
        Edit::RecordBehindTheBack => assert!(reason.contains("valid_until"), "{reason}"),
        _ => assert!(reason.contains("stored tree differs"), "{reason}"),
    }
    db.finish().await;
}

#[derive(Debug, Clone, Copy)]
enum Edit {
    Bytes,
    BytesAndLeaf,
    Deletion,
    Reordering,
    Insertion,
    RecordBehindTheBack,
}

/// The whole log rewritten by someone who holds the key too (entry 5 edited, the tree and
/// checkpoints made again): `verify` cannot tell, but a checkpoint an inspector saved
/// before fails its consistency proof.
async fn a_saved_checkpoint_fails_after_a_rewrite(db: TestDb) {
    let (app, key, (_, product)) = checkpointed(&db).await;
    let saved = db.store.latest_checkpoint().await.unwrap().unwrap().note;
    assert_eq!(
        auditlog::prove(&app, &key.vkey, saved.as_bytes())
            .await
            .unwrap(),
        ProofOutcome::Consistent {
            size: 12,
            latest: 12
        }
    );
    let (bytes, leaf) = edited_entry_5(&db).await;
    let (bytes, leaf) = (blob(&db, &bytes), blob(&db, &leaf));
    as_administrator(
        &db,
        &[
            &format!("UPDATE audit_entries SET entry = {bytes}, leaf_hash = {leaf} WHERE seq = 5"),
            // The lot too, or `verify` would find it unlike its entry.
            "UPDATE lots SET code = 'CD-9' WHERE code = 'CD-1'",
            "DELETE FROM audit_tree_hashes",
            "DELETE FROM audit_checkpoints",
        ],
    )
    .await;
    db.store
        .create_lot(&lot(product, "CD-after").build(), now())
        .await
        .unwrap();
    auditlog::checkpoint(&app, &key).await.unwrap();
    let rewritten = auditlog::verify(&app, &key.vkey).await.unwrap();
    assert!(rewritten.is_ok(), "{rewritten:?}");
    let outcome = auditlog::prove(&app, &key.vkey, saved.as_bytes())
        .await
        .unwrap();
    assert!(
        matches!(
            outcome,
            ProofOutcome::Inconsistent {
                size: 12,
                latest: 13,
                ..
            }
        ),
        "{outcome:?}"
    );
    // A note not signed by the log's key is refused as such.
    let forged = saved.replace("\n12\n", "\n11\n");
    assert_eq!(
        auditlog::prove(&app, &key.vkey, forged.as_bytes())
            .await
            .unwrap(),
        ProofOutcome::NotSigned
    );
    db.finish().await;
}

macro_rules! on_both {
    ($($name:ident: $body:expr),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = crate::support::db::TestDb::sqlite().await;
                    #[allow(clippy::redundant_closure_call)]
                    ($body)(db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = crate::support::db::TestDb::postgres().await;
                    #[allow(clippy::redundant_closure_call)]
                    ($body)(db).await;
                }
            )*
        }
    };
}

on_both!(
    an_edited_entry_is_named: |db| super::each_edit_is_named_at_its_entry(db, super::Edit::Bytes),
    an_edited_entry_with_its_leaf_hash_is_named: |db| super::each_edit_is_named_at_its_entry(db, super::Edit::BytesAndLeaf),
    a_deleted_entry_is_named: |db| super::each_edit_is_named_at_its_entry(db, super::Edit::Deletion),
    reordered_entries_are_named: |db| super::each_edit_is_named_at_its_entry(db, super::Edit::Reordering),
    an_inserted_entry_is_named: |db| super::each_edit_is_named_at_its_entry(db, super::Edit::Insertion),
    a_certificate_edited_behind_the_application_is_named: |db| super::each_edit_is_named_at_its_entry(db, super::Edit::RecordBehindTheBack),
    a_saved_checkpoint_fails_after_a_rewrite: super::a_saved_checkpoint_fails_after_a_rewrite,
);

/// At the command line and over HTTP with a real server: 300 products imported (two tiles of
/// entries), `audit checkpoint` signs, `audit verify` passes, the server serves the same
/// checkpoint, and an independent Python check (hashlib and cryptography only) recomputes
/// its root from the served tiles and verifies its signature; `audit prove` shows a saved
/// checkpoint a prefix of a later one.
#[test]
fn an_independent_check_recomputes_the_signed_root_from_the_served_tiles() {
    let env = crate::support::cli_env::CliEnv::new();
    env.ok(&["demo"]);
    let csv = env.path("san-pham.csv");
    let mut rows = String::from("Tên sản phẩm,Nhóm hàng,Đơn vị tính\r\n");
    for i in 0..300 {
        rows.push_str(&format!("Chè số {i},Đồ uống,gói\r\n"));
    }
    std::fs::write(&csv, rows).unwrap();
    env.ok(&[
        "import",
        csv.to_str().unwrap(),
        "--as",
        "bientap@demo.truyxuat.vn",
    ]);
    let signed = env.ok(&["audit", "checkpoint"]);
    let size: u64 = signed.lines().nth(1).unwrap().parse().unwrap();
    assert!(size > 300, "{signed}");
    let verified = env.ok(&["audit", "verify"]);
    assert!(verified.contains(&format!("{size} entries")), "{verified}");
    let saved = env.path("saved-checkpoint.txt");
    std::fs::write(&saved, &signed).unwrap();

    let server = env.serve();
    let base = format!("http://{}", server.address);
    let (status, served) =
        crate::support::cli_env::request(&server.address, "GET", "/audit/checkpoint", &[], "");
    assert_eq!(status, 200);
    assert_eq!(String::from_utf8(served).unwrap(), signed);
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/.venv/bin/python");
    assert!(python.exists(), "`make test-deps` installs tests/.venv");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/audit/check_log.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(&base)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: serde_json::Value = serde_json::from_str(report.trim()).unwrap();
    assert_eq!(found["size"], size);
    assert_eq!(found["signature_ok"], true);
    assert_eq!(found["root_ok"], true);
    assert_eq!(found["tiles"], size.div_ceil(256));
    server.stop();

    // The log grows; the saved checkpoint proves a prefix of today's.
    env.ok(&[
        "import",
        csv.to_str().unwrap(),
        "--as",
        "bientap@demo.truyxuat.vn",
    ]);
    std::fs::write(
        &csv,
        "Tên sản phẩm,Nhóm hàng,Đơn vị tính\r\nChè mới,Đồ uống,gói\r\n",
    )
    .unwrap();
    env.ok(&[
        "import",
        csv.to_str().unwrap(),
        "--as",
        "bientap@demo.truyxuat.vn",
    ]);
    let proved = env.ok(&["audit", "prove", saved.to_str().unwrap()]);
    assert!(proved.starts_with("consistent"), "{proved}");
    let forged = env.path("forged.txt");
    std::fs::write(
        &forged,
        signed.replacen(&size.to_string(), &(size - 1).to_string(), 1),
    )
    .unwrap();
    let refused = env.run(&["audit", "prove", forged.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not a checkpoint signed"));
}

/// An inspector reads a certificate's history: who changed what, each entry proved against
/// the signed checkpoint; an entry after it waits for the next; an entry edited in the
/// database shows as not matching; a producer's editor is refused.
#[tokio::test]
async fn an_inspector_reads_a_records_history_with_each_entry_proved() {
    use truyxuat::domain::certification::CertStatus;
    use truyxuat::domain::people::Role;
    let app = TestApp::new().await;
    let store = app.db.store.clone();
    let (cert, _) = twelve_entries(&store).await;
    store
        .set_certification_status(cert, CertStatus::Verified, "thanhtra", now())
        .await
        .unwrap();
    auditlog::checkpoint(&app.app, &app.audit_key)
        .await
        .unwrap();
    // One more change, after the checkpoint.
    store
        .set_certification_status(cert, CertStatus::Revoked, "thanhtra", now())
        .await
        .unwrap();
    let council = store
        .certification(cert)
        .await
        .unwrap()
        .unwrap()
        .data
        .issuer_id;
    let inspector = app
        .member("thanhtra@ld.gov.vn", council, Role::Inspector)
        .await;
    let path = format!("/inspect/history/certification/{cert}");
    let page = app.get_with(&path, "cookie", &inspector.cookie).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(
        page.texts("#history td.action"),
        vec![
            "certification.create",
            "certification.status",
            "certification.status"
        ]
    );
    assert_eq!(
        page.texts("#history td.proof"),
        vec![
            "✓ Đã kiểm chứng",
            "✓ Đã kiểm chứng",
            "Chưa có trong checkpoint"
        ]
    );
    assert_eq!(page.texts("#history td.who")[1], "cli:thanhtra");
    let changes = page.texts("#history tr:nth-child(2) ul.changes li");
    assert!(
        changes.iter().any(|c| c == "status: submitted → verified"),
        "{changes:?}"
    );

    // The first entry edited in the database (its leaf hash left): its proof fails.
    let first = store
        .audit_entries_of("certification", &cert.to_string())
        .await
        .unwrap()[0]
        .seq;
    let entry = store.audit_entries(first, 1).await.unwrap().remove(0);
    let edited = String::from_utf8(entry.bytes)
        .unwrap()
        .replace("12/QĐ", "99/QĐ");
    as_administrator(
        &app.db,
        &[&format!(
            "UPDATE audit_entries SET entry = {} WHERE seq = {first}",
            blob(&app.db, &hex::encode(edited.as_bytes()))
        )],
    )
    .await;
    let page = app.get_with(&path, "cookie", &inspector.cookie).await;
    assert_eq!(page.texts("#history td.proof")[0], "✗ KHÔNG khớp");

    // Not a kind of record with a history; not an inspector.
    let odd = app
        .get_with(
            "/inspect/history/%3Cscript%3E/1",
            "cookie",
            &inspector.cookie,
        )
        .await;
    assert_eq!(odd.status, StatusCode::NOT_FOUND);
    let coop = store
        .certification(cert)
        .await
        .unwrap()
        .unwrap()
        .data
        .holder_id;
    let editor = app.member("bientap@htx.vn", coop, Role::Editor).await;
    let refused = app.get_with(&path, "cookie", &editor.cookie).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}
