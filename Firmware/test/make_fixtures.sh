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

# The CC3220SF network processor model (test_hil_simplelink): TI's development root by its name (CN=dummy-root-ca-cert,
# as in the SDK's certificate playground), intermediates stored under their "Issued To" names, RSA-1024/2048/4096 and
# EC signers with SHA-1 and SHA-256 signed certificates, impostors and an unknown root. Every certificate is DER
# (the CC3220 stores DER) with a PEM twin; each signer signs payload.bin with the TI recipe
# (openssl dgst -sha1 -sign, shared/reference/cc3220-bootloader.md §5.1). openssl's own verdicts on the chains are
# written beside them (verify-*.txt), so the tests can check they agree with what the spec demands.
sl=simplelink
mkdir -p "$sl/keys" "$sl/work" "$sl/catalog" "$sl/catalog-ec"
slkey() { # name bits|ec
  case $2 in
    ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "$sl/keys/$1.key" 2>/dev/null ;;
    *) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" -out "$sl/keys/$1.key" 2>/dev/null ;;
  esac
}
slroot() { # name subject bits|ec
  slkey "$1" "$3"
  openssl req -new -x509 -key "$sl/keys/$1.key" -subj "$2" -days 3650 -sha256 -out "$sl/$1.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
  openssl x509 -in "$sl/$1.pem" -outform DER -out "$sl/$1.der"
}
slissue() { # name subject bits|ec issuer digest ca|leaf [key-of]
  local key=${7:-$1}
  [[ -f $sl/keys/$key.key ]] || slkey "$key" "$3"
  if [[ $6 == ca ]]; then
    printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n' > "$sl/work/$1.ext"
  else
    printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n' > "$sl/work/$1.ext"
  fi
  openssl req -new -key "$sl/keys/$key.key" -subj "$2" -out "$sl/work/$1.csr" 2>/dev/null
  openssl x509 -req -in "$sl/work/$1.csr" -CA "$sl/$4.pem" -CAkey "$sl/keys/$4.key" -set_serial "0x$(openssl rand -hex 8)" \
    -days 365 "-$5" -extfile "$sl/work/$1.ext" -out "$sl/$1.pem" 2>/dev/null
  openssl x509 -in "$sl/$1.pem" -outform DER -out "$sl/$1.der"
}
# name subject bits issuer digest kind [key-of]
slroot root "/CN=dummy-root-ca-cert" 2048
slroot ec-root "/CN=dummy-ec-root-ca" ec
slroot unknown-root "/CN=unknown-root-ca" 2048
slroot impostor-root "/CN=dummy-root-ca-cert" 2048
slroot nocn-ca "/O=otarig/OU=no common name" 2048
while read -r name subject bits issuer digest kind keyof; do
  slissue "$name" "$subject" "$bits" "$issuer" "$digest" "$kind" ${keyof:+"$keyof"}
done <<'SLLIST'
int /CN=dummy-trusted-ca-cert 2048 root sha1 ca
int2 /CN=sl-int-2 2048 int sha256 ca
int3 /CN=sl-int-3 2048 int2 sha256 ca
int4 /CN=sl-int-4 2048 int3 sha256 ca
signer2048 /CN=dummy-trusted-cert 2048 root sha1 leaf
signer-int /CN=sl-signer-via-int 2048 int sha256 leaf
signer-int3 /CN=sl-signer-via-3 2048 int3 sha256 leaf
signer-int4 /CN=sl-signer-via-4 2048 int4 sha256 leaf
signer1024 /CN=sl-signer-1024 1024 root sha1 leaf
signer4096 /CN=sl-signer-4096 4096 root sha256 leaf
signer-ec /CN=sl-signer-ec ec root sha256 leaf
signer-ecroot /CN=sl-signer-ec-root 2048 ec-root sha256 leaf
signer-unknown /CN=sl-signer-unknown 2048 unknown-root sha256 leaf
signer-impostor /CN=sl-signer-impostor 2048 impostor-root sha256 leaf
signer-nocn /CN=sl-signer-nocn 2048 nocn-ca sha256 leaf
mismatch-ca /O=Other/CN=sl-mismatch-ca 2048 root sha256 ca
mismatch-file /CN=sl-mismatch-ca 2048 root sha256 ca mismatch-ca
signer-mismatch /CN=sl-signer-mismatch 2048 mismatch-ca sha256 leaf
wrongkey-ca /CN=sl-wrongkey-ca 2048 root sha256 ca
wrongkey-file /CN=sl-wrongkey-ca 2048 root sha256 ca wrongkey-other
signer-wrongkey /CN=sl-signer-wrongkey 2048 wrongkey-ca sha256 leaf
SLLIST
# The catalogs: the RSA root (PEM, as TI ships it next to the DER) and the EC root; revoked lists by openssl's fingerprints.
cp "$sl/root.pem" "$sl/catalog/dummy-root-ca-cert.pem"
cp "$sl/ec-root.der" "$sl/catalog-ec/dummy-ec-root-ca.der"
for name in root int signer2048; do
  openssl x509 -in "$sl/$name.pem" -noout -fingerprint -sha1 | sed 's/^.*=//' > "$sl/revoked-$name-sha1.txt"
  { echo "# $name, by SHA-256"; openssl x509 -in "$sl/$name.pem" -noout -fingerprint -sha256 | sed 's/^.*=//' | tr -d ':'; } > "$sl/revoked-$name-sha256.txt"
done
for name in signer2048 signer-int signer-int3 signer1024 signer4096 signer-ecroot signer-unknown signer-impostor signer-mismatch signer-wrongkey signer-int4; do
  openssl dgst -sha1 -sign "$sl/keys/$name.key" -out "$sl/$name.sig" payload.bin
done
# openssl's verdicts: the chain from each signer to the catalog root, with the issuer files as untrusted certificates.
cat "$sl/int.pem" "$sl/int2.pem" "$sl/int3.pem" > "$sl/work/untrusted.pem"
for name in signer2048 signer-int signer-int3 signer1024 signer-unknown signer-impostor; do
  if openssl verify -auth_level 0 -CAfile "$sl/root.pem" -untrusted "$sl/work/untrusted.pem" "$sl/$name.pem" >/dev/null 2>&1; then
    echo ok > "$sl/verify-$name.txt"; else echo fail > "$sl/verify-$name.txt"; fi
  if openssl dgst -sha1 -verify <(openssl x509 -in "$sl/$name.pem" -noout -pubkey) -signature "$sl/$name.sig" payload.bin >/dev/null 2>&1; then
    echo ok > "$sl/sigverify-$name.txt"; else echo fail > "$sl/sigverify-$name.txt"; fi
done
rm -rf "$sl/work" "$sl/keys"
rm -rf work keys
cd - >/dev/null
rm -rf "$out"
mv "$out.tmp" "$out"
