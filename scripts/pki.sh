#!/bin/sh
# Make a demo PKI in DIR (for make run and the service tests; never for
# production): a CA, a server certificate for localhost/127.0.0.1, client
# certificates for two agencies, an inspector, a reviewer and an admin,
# and for the tests: a client of another CA, an expired client and a
# revoked client with the CA's CRL.
#   scripts/pki.sh DIR
set -eu
D=$1
mkdir -p "$D"
cd "$D"
[ -f ca.crt ] && exit 0
q() { "$@" >/dev/null 2>&1; }
cat > ca.cnf <<'CNF'
[ ca ]
default_ca = demo
[ demo ]
dir = .
database = index.txt
serial = serial
crlnumber = crlnumber
new_certs_dir = .
certificate = ca.crt
private_key = ca.key
default_md = sha256
default_days = 365
default_crl_days = 30
policy = any
copy_extensions = copy
unique_subject = no
[ any ]
commonName = supplied
organizationName = optional
[ client ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = clientAuth
[ server ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
CNF
: > index.txt
echo 1000 > serial
echo 1000 > crlnumber
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout ca.key -out ca.crt -days 3650 -subj "/CN=sharelog demo CA"
issue() { # NAME CN EXT [STARTDATE ENDDATE]
	q openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$1.key" -out "$1.csr" -subj "/CN=$2"
	if [ $# -ge 5 ]; then
		q openssl ca -batch -config ca.cnf -extensions "$3" \
			-startdate "$4" -enddate "$5" -in "$1.csr" -out "$1.crt"
	else
		q openssl ca -batch -config ca.cnf -extensions "$3" \
			-in "$1.csr" -out "$1.crt"
	fi
	rm -f "$1.csr"
}
issue server localhost server
issue police police-esx client
issue school school-118832 client
issue inspector ofsted-inspector client
issue reviewer cspr-reviewer client
issue admin sharelog-admin client
issue expired expired-client client 20200101000000Z 20210101000000Z
issue revoked revoked-client client
q openssl ca -batch -config ca.cnf -revoke revoked.crt
q openssl ca -batch -config ca.cnf -gencrl -out crl.pem
# A look-alike: same name as the police client, another CA.
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout other-ca.key -out other-ca.crt -days 3650 -subj "/CN=other CA"
q openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout rogue.key -out rogue.csr -subj "/CN=police-esx"
q openssl x509 -req -in rogue.csr -CA other-ca.crt -CAkey other-ca.key \
	-CAcreateserial -out rogue.crt -days 365
rm -f rogue.csr
chmod 600 ./*.key
