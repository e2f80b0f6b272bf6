#!/bin/sh
# Regenerates the CC3220 chain fixtures with the openssl CLI (OpenSSL 3). Run from this directory; the keys are
# thrown away, only certificates, one message and its signature are kept.
#   root.der                          CN=otarig fixture root, RSA-2048, self-signed, sha256WithRSAEncryption
#   otarig fixture intermediate       CN=otarig fixture intermediate, RSA-2048, issued by the root, sha1WithRSAEncryption
#                                     (the SimpleLink file name is exactly its commonName, TI's "Issued To" rule)
#   signer.der                        CN=otarig fixture signer, RSA-1024, issued by the intermediate, sha1WithRSAEncryption
#   impostor-root.der                 CN=otarig fixture root again, another RSA-2048 key, self-signed
#   message.bin, message.sig          2000 random bytes; openssl dgst -sha1 -sign with the signer's key (128 bytes)
set -eu
t=$(mktemp -d)
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$t/root.key" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$t/inter.key" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$t/signer.key" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$t/impostor.key" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n' > "$t/ca.ext"
printf 'keyUsage=digitalSignature\nextendedKeyUsage=codeSigning\n' > "$t/leaf.ext"
openssl req -new -x509 -key "$t/root.key" -subj "/CN=otarig fixture root" -days 3650 -sha256 -outform DER -out root.der
openssl req -new -x509 -key "$t/impostor.key" -subj "/CN=otarig fixture root" -days 3650 -sha256 -outform DER -out impostor-root.der
openssl req -new -key "$t/inter.key" -subj "/CN=otarig fixture intermediate" -out "$t/inter.csr"
openssl x509 -req -in "$t/inter.csr" -CA root.der -CAform DER -CAkey "$t/root.key" -sha1 -set_serial 2 -days 3650 \
    -extfile "$t/ca.ext" -outform DER -out "otarig fixture intermediate"
openssl req -new -key "$t/signer.key" -subj "/CN=otarig fixture signer" -out "$t/signer.csr"
openssl x509 -req -in "$t/signer.csr" -CA "otarig fixture intermediate" -CAform DER -CAkey "$t/inter.key" -sha1 -set_serial 3 \
    -days 3650 -extfile "$t/leaf.ext" -outform DER -out signer.der
head -c 2000 /dev/urandom > message.bin
openssl dgst -sha1 -sign "$t/signer.key" -out message.sig message.bin
rm -rf "$t"
