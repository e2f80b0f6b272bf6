#!/usr/bin/env bash
# Signed images and job documents for the verifier's C tests, made fresh on every run by the two signers the
# device must accept: `otarig sign` and the openssl CLI with the FreeRTOS recipe (FreeRTOS User Guide,
# awsdocs/aws-freertos-docs @38314d0a doc_source/userguide/ota-code-sign-cert-esp.md).
#   make_fixtures.sh OUT_DIR OTARIG
# Writes OUT_DIR/{payload.bin,payload_aligned.bin,certs/*,jobs/*.json}; each job is the message a device receives
# on $aws/things/<thing>/jobs/$next/get/accepted, wrapping the job document AWS IoT stores.
set -euo pipefail
out=$(realpath -m "$1")
otarig=$(realpath -m "$2")
if [[ ! -x $otarig ]]; then
  echo "make_fixtures: no otarig at $otarig: build it first (swift build --product otarig) or pass OTARIG=" >&2
  exit 1
fi
command -v openssl >/dev/null || { echo "make_fixtures: openssl is not installed (Scripts/bootstrap installs it)" >&2; exit 1; }

rm -rf "$out.tmp"
mkdir -p "$out.tmp/certs" "$out.tmp/jobs" "$out.tmp/keys" "$out.tmp/work"
cd "$out.tmp"
head -c 70001 /dev/urandom > payload.bin        # 18 blocks, the last one partial
head -c 8192 /dev/urandom > payload_aligned.bin # exactly 2 blocks

wrap() { # job-id job-document-file -> execution message
  printf '{"clientToken":"0:otarig-hil","timestamp":1700000000,"execution":{"jobId":"%s","status":"QUEUED","jobDocument":%s}}' \
    "$1" "$(cat "$2")"
}

cat > work/cert_config.txt <<'CONF'
[ req ]
prompt             = no
distinguished_name = my_dn
[ my_dn ]
commonName = test_signer@amazon.com
[ my_exts ]
keyUsage         = digitalSignature
extendedKeyUsage = codeSigning
CONF

# name platform key-type encryption hash openssl-keygen job-key
while read -r name platform keytype enc hash keygen jobkey; do
  # otarig: certificate, signature and job document from otarig itself.
  "$otarig" cert create --key-type "$keytype" --cert-out "certs/$name-otarig.crt" --key-out "keys/$name-otarig.key" >/dev/null
  for payload in payload payload_aligned; do
    "$otarig" sign --platform "$platform" --encryption-algorithm "$enc" --hash-algorithm "$hash" \
      --cert "certs/$name-otarig.crt" --key "keys/$name-otarig.key" --in "$payload.bin" \
      --out "work/$name-$payload.signed.json" --job-doc "work/$name-$payload-otarig.doc.json" \
      --certname "$name-otarig.crt" --data-dir work/otarig-data >/dev/null
    wrap "AFR_OTA-$name-otarig" "work/$name-$payload-otarig.doc.json" > "jobs/$name-otarig-$payload.json"
  done
  # openssl: the FreeRTOS recipe's key and certificate, `openssl dgst -sign` for the signature.
  case $keygen in
    ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "keys/$name-openssl.key" 2>/dev/null ;;
    rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "keys/$name-openssl.key" 2>/dev/null ;;
  esac
  openssl req -new -x509 -config work/cert_config.txt -extensions my_exts -nodes -days 365 \
    -key "keys/$name-openssl.key" -out "certs/$name-openssl.crt" 2>/dev/null
  for payload in payload payload_aligned; do
    digest=$(echo "$hash" | tr 'A-Z' 'a-z')
    openssl dgst "-$digest" -sign "keys/$name-openssl.key" -out "work/$name-$payload.sig" "$payload.bin"
    printf '{"afr_ota":{"protocols":["MQTT"],"streamname":"AFR_OTA-openssl","files":[{"filepath":"/ota/fw.bin","filesize":%s,"fileid":0,"certfile":"%s","%s":"%s"}]}}' \
      "$(stat -c %s "$payload.bin")" "$name-openssl.crt" "$jobkey" "$(base64 -w0 "work/$name-$payload.sig")" > "work/$name-$payload-openssl.doc.json"
    wrap "AFR_OTA-$name-openssl" "work/$name-$payload-openssl.doc.json" > "jobs/$name-openssl-$payload.json"
  done
done <<'LIST'
ecdsa AmazonFreeRTOS-Default ec-p256 ECDSA SHA256 ec sig-sha256-ecdsa
rsa256 AmazonFreeRTOS-Default rsa-2048 RSA SHA256 rsa sig-sha256-rsa
rsa1 AmazonFreeRTOS-TI-CC3220SF rsa-2048 RSA SHA1 rsa sig-sha1-rsa
LIST

# The same ECDSA certificate as DER, for PALs that store DER (the CC3220 keeps its certificate as DER).
openssl x509 -in certs/ecdsa-openssl.crt -outform DER -out certs/ecdsa-openssl.der
# The device policy's revocation list signer (test_hil_policy): its certificate provisioned under the fixed label
# beside the code-signing certificates, its key and a stranger's key and certificate to sign lists with.
mkdir -p revocation
for signer in list-signer other-signer; do
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "revocation/$signer.key" 2>/dev/null
  openssl req -new -x509 -subj "/CN=otarig $signer" -nodes -days 365 -key "revocation/$signer.key" -out "revocation/$signer.crt" 2>/dev/null
done
cp revocation/list-signer.crt certs/otarig-revocation.crt
rm -rf work keys
cd - >/dev/null
rm -rf "$out"
mv "$out.tmp" "$out"
