//! The label story through the real binary: keys in a folder, a million labels minted in
//! one row, verdicts as exit codes, rotation and revocation, no private key bytes in the
//! database or the logs, and keys.json served for offline verifiers.

use std::io::{Read, Write};
use std::net::TcpStream;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::support::cli_env::CliEnv;

/// The database's size once its write-ahead log is folded in: pages times page size.
fn db_size(env: &CliEnv) -> u64 {
    let url = format!("sqlite://{}", env.db().display());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&pool)
            .await
            .unwrap();
        let bytes: i64 = sqlx::query_scalar(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        pool.close().await;
        u64::try_from(bytes).unwrap()
    })
}

/// Every form a private key could leak in: the seed, its hex, and the derived secrets.
fn secret_patterns(seed_hex: &str) -> Vec<Vec<u8>> {
    let seed = hex::decode(seed_hex.trim()).unwrap();
    let derive = |label: &str| {
        let mut mac = Hmac::<Sha256>::new_from_slice(&seed).unwrap();
        mac.update(label.as_bytes());
        mac.finalize().into_bytes().to_vec()
    };
    let ed = derive("truyxuat/key/v1/ed25519");
    let code = derive("truyxuat/key/v1/code");
    vec![
        seed.clone(),
        seed_hex.trim().as_bytes().to_vec(),
        seed_hex.trim().to_uppercase().into_bytes(),
        ed.clone(),
        hex::encode(&ed).into_bytes(),
        code.clone(),
        hex::encode(&code).into_bytes(),
        URL_SAFE_NO_PAD.encode(&seed).into_bytes(),
    ]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_label_story_through_the_command_line() {
    let env = CliEnv::new();
    env.ok(&["demo"]);

    // Minting needs a key first, and says so.
    let refused = env.run(&["mint", "--product", "1", "--count", "10"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("truyxuat keys new"));

    let kid = env.ok(&["keys", "new"]).trim().to_owned();
    let key_file = env.keys().join(format!("{kid}.key"));
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&key_file).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(
        env.run(&["keys", "new"]).status.code(),
        Some(1),
        "a second `keys new` is refused"
    );

    // A million labels cost one row: the database grows by less than 64 KiB.
    let before = db_size(&env);
    let small = env.ok(&[
        "mint",
        "--product",
        "1",
        "--count",
        "1000",
        "--lot",
        "CD-2026-10A",
    ]);
    let big = env.ok(&[
        "mint",
        "--product",
        "1",
        "--count",
        "1000000",
        "--lot",
        "CD-2026-10A",
    ]);
    let growth = db_size(&env) - before;
    assert!(growth < 64 * 1024, "the database grew by {growth} bytes");
    let (small, big) = (small.trim(), big.trim());

    // A reader that stops early (`| head`) ends the listing quietly and successfully.
    let mut listing = env
        .command()
        .env("TRUYXUAT_LOG", "warn")
        .args(["labels", big])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(listing.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    assert!(
        first.starts_with("https://truyxuat.lamdong.gov.vn/01/"),
        "{first}"
    );
    let stopped = listing.wait_with_output().unwrap();
    assert!(stopped.status.success(), "{stopped:?}");
    assert_eq!(String::from_utf8_lossy(&stopped.stderr), "");

    let last = env.ok(&["labels", big, "--range", "999999..1000000"]);
    assert_eq!(last.lines().count(), 1);
    let verdict = env.ok(&["verify", last.trim()]);
    assert!(verdict.starts_with("genuine"), "{verdict}");
    assert!(
        verdict.contains(&format!("batch {big}, label 999999")),
        "{verdict}"
    );
    let json = env.ok(&["verify", "--json", last.trim()]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["verdict"], "genuine");
    assert_eq!(json["product"]["gtin"], "08936049120015");

    let first_small = env.ok(&["labels", small, "--range", "0..1"]);
    // One character of the serial changed (not its first, the key slot): the proof fails.
    let genuine = first_small.trim();
    let last = genuine.chars().last().unwrap();
    let tampered = format!(
        "{}{}",
        &genuine[..genuine.len() - 1],
        if last == '7' { '8' } else { '7' }
    );
    let out = env.run(&["verify", &tampered]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.starts_with("not genuine:"), "{said}");

    // Rotation: old labels still verify; new labels carry the new key.
    let new_kid = env.ok(&["keys", "rotate"]).trim().to_owned();
    assert_ne!(new_kid, kid);
    assert!(env.ok(&["verify", first_small.trim()]).contains(&kid));
    let offline_batch = env.ok(&[
        "mint",
        "--product",
        "3",
        "--count",
        "5",
        "--profile",
        "offline",
    ]);
    let offline = env.ok(&["labels", offline_batch.trim()]);
    let offline_uri = offline.lines().next().unwrap().to_owned();
    let listed = env.ok(&["keys", "list"]);
    assert!(
        listed.contains(&format!("{kid}     0  retired")),
        "{listed}"
    );
    assert!(
        listed.contains(&format!("{new_kid}     1  active")),
        "{listed}"
    );

    // Revocation has its own verdict and exit code.
    env.ok(&["keys", "revoke", &kid]);
    let out = env.run(&["verify", first_small.trim()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("revoked key"));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("error: the label's key has been revoked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // keys.json over HTTP, then an offline label checked with ring and nothing else.
    let keys_json = serve_and_fetch(&env, "/.well-known/truyxuat/keys.json");
    let log = env.log();
    // What is searched below holds the server's debug log too.
    assert!(String::from_utf8_lossy(&log).contains("serving"));
    assert!(
        ring_verifies_short_form(&offline_uri, &keys_json),
        "{offline_uri}\n{keys_json}"
    );
    // The same signature under the next serial of the batch does not hold.
    let next_serial = offline.lines().nth(1).unwrap().rsplit('/').nth(1).unwrap();
    let (stem, sig) = offline_uri.rsplit_once('/').unwrap();
    let (stem, _) = stem.rsplit_once('/').unwrap();
    let moved = format!("{stem}/{next_serial}/{sig}");
    assert!(!ring_verifies_short_form(&moved, &keys_json), "{moved}");
    // keys.json names the base URL the keys sign for; a verifier warns of a label that
    // points elsewhere (a genuine label's URI copied onto another site).
    let document: truyxuat::labelcode::KeysDocument = serde_json::from_str(&keys_json).unwrap();
    assert_eq!(document.base_urls, vec!["https://truyxuat.lamdong.gov.vn"]);
    let copied = offline_uri.replace("TRUYXUAT.LAMDONG.GOV.VN", "TRUYXUAT-LAMDONG.EXAMPLE");
    let read = truyxuat::labelcode::verify_offline(&offline_uri, &document).unwrap();
    assert!(!read.points_elsewhere);
    let read = truyxuat::labelcode::verify_offline(&copied, &document).unwrap();
    assert!(read.points_elsewhere, "{copied}");
    let out = env.run(&["verify", &copied]);
    let warned = String::from_utf8_lossy(&out.stderr);
    assert!(
        warned.contains("warning: this label points at HTTPS://TRUYXUAT-LAMDONG.EXAMPLE"),
        "{warned}"
    );
    let out = env.run(&["verify", &offline_uri]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));

    // Every change made here is in the audit log, the key folder's too, by the local
    // operator, with the key's public half (never its seed).
    let actions: Vec<(String, serde_json::Value)> =
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let store = truyxuat::store::open(&env.db_url()).await.unwrap();
            let entries = store.audit_entries(0, 1000).await.unwrap();
            entries
                .iter()
                .map(|e| {
                    let entry = e.entry().unwrap();
                    assert!(matches!(
                        entry.actor,
                        truyxuat::domain::audit::ActorRecord::Cli { .. }
                    ));
                    (entry.action, entry.entity.id)
                })
                .collect()
        });
    let of = |action: &str| -> Vec<serde_json::Value> {
        (actions.iter())
            .filter(|(a, _)| a == action)
            .map(|(_, id)| id.clone())
            .collect()
    };
    assert_eq!(of("registry.import").len(), 1);
    assert_eq!(of("key.create"), vec![serde_json::json!(kid)]);
    assert_eq!(of("key.rotate"), vec![serde_json::json!(new_kid)]);
    assert_eq!(of("key.revoke"), vec![serde_json::json!(kid)]);
    assert_eq!(of("labels.mint").len(), 3);

    // No private key bytes in the database or in anything the commands printed.
    let db = std::fs::read(env.db()).unwrap();
    for kid in [&kid, &new_kid] {
        let seed_hex = std::fs::read_to_string(env.keys().join(format!("{kid}.key"))).unwrap();
        for pattern in secret_patterns(&seed_hex) {
            assert!(
                !contains(&db, &pattern),
                "key material of {kid} in the database"
            );
            assert!(
                !contains(&log, &pattern),
                "key material of {kid} in the logs"
            );
        }
    }
}

/// Starts `truyxuat serve` on a free port, GETs `path`, stops the server; returns the body
/// (its log joins the environment's).
fn serve_and_fetch(env: &CliEnv, path: &str) -> String {
    let server = env.serve();
    let address = server.address.clone();
    let mut stream = TcpStream::connect(&address).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    server.stop();
    assert!(
        response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200"),
        "{response}"
    );
    response.split("\r\n\r\n").nth(1).unwrap().to_owned()
}

/// Verifies a short-form offline label (`BASE/T/SERIAL/SIG`) from docs/labels.md alone:
/// slot from the serial's first character, key from keys.json, Ed25519 by ring.
fn ring_verifies_short_form(uri: &str, keys_json: &str) -> bool {
    const ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut segments = uri.rsplit('/');
    let (Some(sig), Some(serial)) = (segments.next(), segments.next()) else {
        return false;
    };
    let Some(slot) = serial.chars().next().and_then(|c| ALPHABET.find(c)) else {
        return false;
    };
    let doc: serde_json::Value = serde_json::from_str(keys_json).unwrap();
    let Some(entry) = doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["slot"] == slot && k["status"] != "revoked")
    else {
        return false;
    };
    let kid = entry["kid"].as_str().unwrap();
    let public = URL_SAFE_NO_PAD
        .decode(entry["public_key"].as_str().unwrap())
        .unwrap();
    let message = format!("truyxuat/offline/v1\n{kid}\n\n\n{serial}");
    let Ok(sig) = URL_SAFE_NO_PAD.decode(sig) else {
        return false;
    };
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &public)
        .verify(message.as_bytes(), &sig)
        .is_ok()
}

/// A key given in the environment has no record of its own: keys.json dates it from when
/// the service first saw it (kept in the database), not from 1970.
#[test]
fn a_key_from_the_environment_is_published_from_when_it_was_first_seen() {
    let env = CliEnv::new();
    let seed = "5a".repeat(32);
    let valid_from = || {
        let server = env.serve_with(&[("TRUYXUAT_SIGNING_KEY", seed.as_str())]);
        let mut stream = TcpStream::connect(&server.address).unwrap();
        write!(
            stream,
            "GET /.well-known/truyxuat/keys.json HTTP/1.0\r\nHost: x\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        server.stop();
        let body = response.split("\r\n\r\n").nth(1).unwrap().to_owned();
        let document: truyxuat::labelcode::KeysDocument = serde_json::from_str(&body).unwrap();
        document.keys[0].valid_from
    };
    let before = chrono::Utc::now();
    let first = valid_from();
    assert!(first >= before - chrono::Duration::seconds(1), "{first}");
    assert!(first <= chrono::Utc::now());
    // The same key served again keeps its date (a new one would differ: the time is kept
    // to the microsecond).
    assert_eq!(valid_from(), first);
}
