//! Key loading, fingerprints and verification, over AWS's published keys and test-only
//! keys of several sizes.

use super::*;
use crate::format::digest_file::Digest;
use crate::format::hex::{Fingerprint, Signature};
use chrono::TimeZone as _;
use chrono::Utc;
use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::pkcs8::EncodePublicKey as _;

const SAMPLES: &[u8] = include_bytes!("../../../testdata/real/aws-public-keys.json");

#[test]
fn loads_aws_published_keys_pkcs1_and_spki() {
    let set = PublicKeySet::from_list_public_keys_json(SAMPLES).unwrap();
    assert_eq!(set.len(), 4);
    for fp in [
        "8eba5db5bea9b640d1c96a77256fe7f2",
        "8933b39ddc64d26d8e14ffbf6566fee4",
        "31e8b5433410dfb61a9dc45cc65b22ff",
        "7f3f401420072e50a65a141430817ab3",
    ] {
        let key = set.get(&Fingerprint::from_hex(fp).unwrap()).unwrap();
        assert!(key.is_usable(), "{fp}");
    }
    let k = set
        .get(&Fingerprint::from_hex("7f3f401420072e50a65a141430817ab3").unwrap())
        .unwrap();
    assert_eq!(k.validity().unwrap().start.timestamp(), 1_453_076_702);
}

#[test]
fn verifies_with_ring_and_both_libraries_agree() {
    use cloudtrail_digest_testgen::{cases::standard_trail, Generator, Hour, TestKey, Tree};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/keys");
    let test_key = TestKey::load(&dir, 1).unwrap();
    let t0 = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 7).unwrap();
    let list = serde_json::json!({ "PublicKeyList": [test_key.list_entry(t0, t0)] });
    let set = PublicKeySet::from_list_public_keys_json(list.to_string().as_bytes()).unwrap();
    let hours = [Hour::default(); 2];
    let gen = Generator::new(1).chain(
        &mut Tree::default(),
        &standard_trail(),
        &[&test_key],
        t0,
        &hours,
        None,
    );
    let digest = Digest::from_json(gen[1].json.clone()).unwrap();
    let key = set
        .get(&digest.file().digest_public_key_fingerprint)
        .unwrap();
    let signature = Signature::from_hex(&gen[1].signature).unwrap();
    // The fast path itself accepts it (else every verification would fall back), where
    // the build has one.
    let der = &key.key.as_ref().unwrap().pkcs1_der;
    let signed = SigningString::new(&digest);
    let has_fast_path = cfg!(any(feature = "aws", feature = "ring"));
    assert_eq!(
        super::verify::fast_verify(der, signed.as_bytes(), signature.as_bytes()),
        has_fast_path
    );
    assert!(key.verify(digest.clone(), &signature).is_ok());
    // Another digest's signature: a mismatch for both.
    let other = Signature::from_hex(&gen[0].signature).unwrap();
    assert!(!super::verify::fast_verify(
        der,
        signed.as_bytes(),
        other.as_bytes()
    ));
    assert_eq!(
        key.verify(digest, &other).err(),
        Some(SignatureError::Mismatch)
    );
    // AWS's published keys, PKCS#1 and SPKI alike, convert for the fast path.
    let aws = PublicKeySet::from_list_public_keys_json(SAMPLES).unwrap();
    assert!(aws
        .iter()
        .all(|k| k.key.as_ref().is_ok_and(|l| !l.pkcs1_der.is_empty())));
}

#[test]
fn refuses_a_wrong_fingerprint() {
    let text = String::from_utf8(SAMPLES.to_vec()).unwrap().replace(
        "8933b39ddc64d26d8e14ffbf6566fee4",
        "8933b39ddc64d26d8e14ffbf6566fee5",
    );
    let err = PublicKeySet::from_list_public_keys_json(text.as_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "key 1: Fingerprint 8933b39ddc64d26d8e14ffbf6566fee5 is not the MD5 of its Value (which is 8933b39ddc64d26d8e14ffbf6566fee4)"
    );
}

#[test]
fn accepts_iso_validity_times_and_pem() {
    let json = r#"{"PublicKeyList":[{"Value":"MIIBCgKCAQEAlSS3cl92HDycr/MTj0moOhas8habjrraXw+KzlWF0axSI2tcF+3iJ9BKQAVSKxGwxwu3m0wG3J+kUl1xboEcEPHYoIYMbgfSw7KGnuDKwkLzsQWhUJ0cIbOHASox1vv/5fNXkrHhGbDCHeVXm804c83nvHUEFYThr1PfyP/8HwrCtR3FX5OANtQCP61C1nJtSSkC8JSQUOrIP4CuwJjc+4WGDk+BGH5m9iuiAKkipEHWmUl8/P7XpfpWQuk4h8g3pXZOrNXr08lbh4d39svj7UqdhvOXoBISp9t/EXYuePGEtBdrKD9Dz+VHwyUPtBQvYr9BnkF88qBnaPNhS44rzwIDAQAB","ValidityStartTime":"2016-01-18T00:25:02+00:00","ValidityEndTime":"2016-02-17T00:25:02Z","Fingerprint":"7f3f401420072e50a65a141430817ab3"}]}"#;
    let set = PublicKeySet::from_file_bytes(json.as_bytes()).unwrap();
    let key = set.iter().next().unwrap();
    assert_eq!(key.validity().unwrap().start.timestamp(), 1_453_076_702);
    let b64 = "MIIBCgKCAQEAlSS3cl92HDycr/MTj0moOhas8habjrraXw+KzlWF0axSI2tcF+3iJ9BKQAVSKxGwxwu3m0wG3J+kUl1xboEcEPHYoIYMbgfSw7KGnuDKwkLzsQWhUJ0cIbOHASox1vv/5fNXkrHhGbDCHeVXm804c83nvHUEFYThr1PfyP/8HwrCtR3FX5OANtQCP61C1nJtSSkC8JSQUOrIP4CuwJjc+4WGDk+BGH5m9iuiAKkipEHWmUl8/P7XpfpWQuk4h8g3pXZOrNXr08lbh4d39svj7UqdhvOXoBISp9t/EXYuePGEtBdrKD9Dz+VHwyUPtBQvYr9BnkF88qBnaPNhS44rzwIDAQAB";
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN RSA PUBLIC KEY-----\n{}\n-----END RSA PUBLIC KEY-----\n",
        lines.join("\n")
    );
    let from_pem = PublicKeySet::from_file_bytes(pem.as_bytes()).unwrap();
    assert_eq!(
        from_pem.iter().next().unwrap().fingerprint(),
        key.fingerprint()
    );
    assert!(PublicKeySet::from_file_bytes(b"not a key").is_err());
}

fn test_keys_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/keys")
}

/// A digest of a generated two-hour chain signed by `key`, with its signature.
fn signed_digest(key: &cloudtrail_digest_testgen::TestKey) -> (Digest, Signature) {
    use cloudtrail_digest_testgen::{cases::standard_trail, Generator, Hour, Tree};
    let t0 = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 7).unwrap();
    let gen = Generator::new(1).chain(
        &mut Tree::default(),
        &standard_trail(),
        &[key],
        t0,
        &[Hour::default(); 2],
        None,
    );
    (
        Digest::from_json(gen[1].json.clone()).unwrap(),
        Signature::from_hex(&gen[1].signature).unwrap(),
    )
}

fn pem(label: &str, der: &[u8]) -> String {
    pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der).unwrap()
}

#[test]
fn a_key_file_matches_by_the_md5_of_its_pkcs1_and_of_its_spki_encoding() {
    let key = cloudtrail_digest_testgen::TestKey::load(&test_keys_dir(), 1).unwrap();
    let (digest, signature) = signed_digest(&key);
    // CloudTrail's fingerprint is the MD5 of PKCS#1 here; `openssl rsa -pubout` writes SPKI.
    let rsa_key = rsa::RsaPublicKey::from_pkcs1_der(&key.public_der).unwrap();
    let spki = rsa_key.to_public_key_der().unwrap().as_bytes().to_vec();
    for file in [
        pem("PUBLIC KEY", &spki).into_bytes(),
        spki.clone(),
        pem("RSA PUBLIC KEY", &key.public_der).into_bytes(),
    ] {
        let set = PublicKeySet::from_file_bytes(&file).unwrap();
        assert_eq!(set.len(), 1);
        assert!(set.verify(digest.clone(), &signature).is_ok());
    }
    // A fingerprint that is the MD5 of SPKI (one key AWS published is SPKI) matches a key
    // saved as PKCS#1.
    let spki_fingerprint = Fingerprint::of_der(&spki);
    let set =
        PublicKeySet::from_file_bytes(pem("RSA PUBLIC KEY", &key.public_der).as_bytes()).unwrap();
    assert_eq!(
        set.get(&spki_fingerprint).map(PublicKey::fingerprint),
        Some(&Fingerprint::of_der(&key.public_der))
    );
    // list-public-keys JSON keeps its declared, checked fingerprint only.
    let t = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
    let list = serde_json::json!({ "PublicKeyList": [key.list_entry(t, t)] });
    let set = PublicKeySet::from_file_bytes(list.to_string().as_bytes()).unwrap();
    assert!(set.get(&spki_fingerprint).is_none());
}

#[test]
fn verifies_keys_larger_than_4096_bits_and_refuses_none_for_its_size() {
    for (file, bits) in [
        ("test-only-key-4608.pem", 4608),
        ("test-only-key-9216.pem", 9216),
    ] {
        let text = std::fs::read_to_string(test_keys_dir().join(file)).unwrap();
        let key = cloudtrail_digest_testgen::TestKey::from_pem(&text).unwrap();
        let (digest, signature) = signed_digest(&key);
        let t = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
        let list = serde_json::json!({ "PublicKeyList": [key.list_entry(t, t)] });
        let set = PublicKeySet::from_file_bytes(list.to_string().as_bytes()).unwrap();
        let loaded = set.iter().next().unwrap();
        assert_eq!(loaded.bits(), Some(bits));
        assert!(
            set.verify(digest.clone(), &signature).is_ok(),
            "{bits} bits"
        );
        let other = Signature::from_hex(&"01".repeat(bits / 8)).unwrap();
        assert_eq!(
            set.verify(digest, &other).err(),
            Some(SignatureError::Mismatch)
        );
    }
}

#[test]
fn a_key_beyond_the_largest_size_leaves_its_digests_unchecked_not_tampered() {
    use rsa::pkcs1::der::Encode as _;
    let modulus = vec![0xc1; MAX_KEY_BITS / 8 + 2];
    let der = rsa::pkcs1::RsaPublicKey {
        modulus: rsa::pkcs1::UintRef::new(&modulus).unwrap(),
        public_exponent: rsa::pkcs1::UintRef::new(&[1, 0, 1]).unwrap(),
    }
    .to_der()
    .unwrap();
    let key = PublicKey::from_der(&der, None);
    assert!(!key.is_usable());
    let real = include_str!("../../../testdata/real/llm-guard-digest.json").replace(
        "be2f0b997552f44942837300ba1aba9d",
        key.fingerprint().as_str(),
    );
    let digest = Digest::from_json(real.into_bytes()).unwrap();
    let signature = Signature::from_hex("00").unwrap();
    assert_eq!(
        key.verify(digest, &signature).err(),
        Some(SignatureError::KeyTooLarge {
            fingerprint: key.fingerprint().clone(),
            bits: MAX_KEY_BITS + 16,
        })
    );
    let e = PublicKeySet::from_file_bytes(&der).unwrap_err().to_string();
    assert_eq!(
        e,
        "the DER key is an RSA key of 16400 bits, larger than the 16384 bits verified"
    );
}

#[test]
fn key_files_that_say_nothing_of_a_region_or_time_leave_digests_unchecked() {
    let key = cloudtrail_digest_testgen::TestKey::load(&test_keys_dir(), 1).unwrap();
    let other = Fingerprint::from_hex(&"ab".repeat(16)).unwrap();
    let t = |d| Utc.with_ymd_and_hms(2024, 5, d, 0, 0, 0).unwrap();
    let source = |json: serde_json::Value| {
        PublicKeySet::from_file_bytes(json.to_string().as_bytes()).unwrap()
    };
    // Nothing at all.
    for empty in [
        serde_json::json!([]),
        serde_json::json!({ "PublicKeyList": [] }),
    ] {
        assert_eq!(
            source(empty).key("us-east-1", &other, t(2)).unwrap_err(),
            "no public key in the given key files"
        );
    }
    // Keys of another region only.
    let mut entry = key.list_entry(t(1), t(9));
    entry["Region"] = "eu-west-1".into();
    let set = source(serde_json::json!({ "PublicKeyList": [entry] }));
    assert_eq!(
        set.key("us-east-1", &other, t(2)).unwrap_err(),
        "no public key for region us-east-1 in the given key files"
    );
    // The region's keys, but none valid then.
    assert_eq!(
        set.key("eu-west-1", &other, t(12)).unwrap_err(),
        "no public key in the given key files for region eu-west-1 is valid at 2024-05-12T00:00:00Z: give keys covering that time"
    );
    // Keys of the region and time that do not hold the fingerprint: a finding.
    assert!(matches!(set.key("eu-west-1", &other, t(2)), Ok(None)));
    // A key without region or window (PEM) serves every region and time.
    let pem_set =
        PublicKeySet::from_file_bytes(pem("RSA PUBLIC KEY", &key.public_der).as_bytes()).unwrap();
    assert!(matches!(pem_set.key("ap-south-1", &other, t(28)), Ok(None)));
    let own = Fingerprint::of_der(&key.public_der);
    assert!(pem_set.key("ap-south-1", &own, t(28)).unwrap().is_some());
}

#[test]
fn bad_key_files_are_named_in_words() {
    let err = |bytes: &[u8]| {
        PublicKeySet::from_file_bytes(bytes)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(err(b""), "the file is empty");
    assert_eq!(err(b"  \n"), "the file is empty");
    assert_eq!(
        err(b"hello"),
        "not a key file: expected the JSON `aws cloudtrail list-public-keys` prints, a PEM public key, or a DER public key"
    );
    assert_eq!(
        err(b"\x30\x03\x02\x01\x01"),
        "the DER key is not an RSA public key (PKCS#1 RSAPublicKey or SubjectPublicKeyInfo)"
    );
    assert!(err(b"{\"a\":1}").contains("no PublicKeyList"));
    assert!(err(b"{").starts_with("invalid list-public-keys JSON"));
    let private = std::fs::read(test_keys_dir().join("test-only-key-1.pem")).unwrap();
    assert_eq!(
        err(&private),
        "PEM block 1 is a PRIVATE KEY, not a public key (RSA PUBLIC KEY or PUBLIC KEY)"
    );
}

#[test]
fn several_pem_blocks_load_every_key() {
    let a = cloudtrail_digest_testgen::TestKey::load(&test_keys_dir(), 1).unwrap();
    let b = cloudtrail_digest_testgen::TestKey::load(&test_keys_dir(), 2).unwrap();
    let text = format!(
        "{}\n{}",
        pem("RSA PUBLIC KEY", &a.public_der),
        pem("RSA PUBLIC KEY", &b.public_der)
    );
    assert_eq!(
        PublicKeySet::from_file_bytes(text.as_bytes())
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn keys_written_as_list_public_keys_json_read_back_the_same() {
    let set = PublicKeySet::from_list_public_keys_json(SAMPLES).unwrap();
    let written = set.to_list_public_keys_json();
    let back = PublicKeySet::from_list_public_keys_json(written.to_string().as_bytes()).unwrap();
    assert_eq!(back.len(), set.len());
    for (a, b) in set.iter().zip(back.iter()) {
        assert_eq!(a.fingerprints(), b.fingerprints());
        assert_eq!(a.validity(), b.validity());
        assert_eq!(a.region(), b.region());
        assert_eq!(a.der(), b.der());
    }
}
