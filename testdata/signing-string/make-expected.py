# Independent oracle for the signing-string test: builds the string exactly as awscli's
# validation.py (_create_string_to_sign) does. Run from the repository root:
#   python3 testdata/signing-string/make-expected.py
import hashlib, json
raw = open('testdata/real/llm-guard-digest.json', 'rb').read()
d = json.loads(raw)
prev = d['previousDigestSignature'] if d['previousDigestSignature'] is not None else 'null'
s = f"{d['digestEndTime']}\n{d['digestS3Bucket']}/{d['digestS3Object']}\n{hashlib.sha256(raw).hexdigest()}\n{prev}"
open('testdata/signing-string/llm-guard-expected.txt', 'w', newline='').write(s)
