# Shows that awscli's own digest validator (the reference) accepts every digest of the
# given cases: used for the vectors only the stronger checks catch. Needs the awscli pip
# package. Run from the repository root:
#   python3 testdata/reference-accepts.py previous-hash-mismatch chain-not-contiguous ...
import glob, gzip, json, sys
from awscli.customizations.cloudtrail.validation import Sha256RSADigestValidator

validator = Sha256RSADigestValidator()
for case in sys.argv[1:]:
    root = f"testdata/cases/{case}"
    keys = {k["Fingerprint"]: k for k in json.load(open(f"{root}/public-keys.json"))["PublicKeyList"]}
    expected = json.load(open(f"{root}/expected.json"))
    bucket = expected["args"][1]
    count = 0
    for path in sorted(glob.glob(f"{root}/{bucket}/AWSLogs/**/CloudTrail-Digest/**/*.json.gz", recursive=True)):
        raw = gzip.open(path).read()
        digest = json.loads(raw)
        meta = json.load(open(path + ".meta.json"))["Metadata"]
        digest["_signature"] = meta["signature"]
        digest["_signature_algorithm"] = meta["signature-algorithm"]
        key = path[len(f"{root}/{bucket}/"):]
        assert digest["digestS3Bucket"] == bucket and digest["digestS3Object"] == key, f"{path}: moved"
        validator.validate(bucket, key, keys[digest["digestPublicKeyFingerprint"]]["Value"], digest, raw)
        count += 1
    print(f"{case}: the reference accepts all {count} digests")
