package decrypt

import (
	"bytes"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/getsops/sops/v3"
)

// fuzzIdentity is a fixed age key, so that seeds encrypted by one fuzzing process decrypt in
// the others. It protects nothing.
const fuzzIdentity = "AGE-SECRET-KEY-16K9Z7JDU9DS92RULHH8CQ57MUAZCAFWHUDMXAXF5NSLKC4EACNSSL4YK6M"

var fuzzFormats = []format{yamlFormat, jsonFormat, dotenvFormat, iniFormat, binaryFormat}

// FuzzDecrypt reads arbitrary bytes as a SOPS document of each format, with and without the
// MAC check, holding the key its seeds were encrypted for. Errors never quote the seeds'
// plaintext; a document accepted with the MAC checked is one the key's holder wrote, so its
// plaintext still holds the seeds' secret (changing or dropping any value breaks the MAC).
func FuzzDecrypt(f *testing.F) {
	id, err := age.ParseX25519Identity(fuzzIdentity)
	if err != nil {
		f.Fatal(err)
	}
	d := decryptor(f, map[string][]byte{"identity.agekey": []byte(fuzzIdentity + "\n")})
	seed := func(fm format, plaintext string, rule func(*sops.Metadata)) {
		for i, each := range fuzzFormats {
			if each == fm {
				f.Add(encryptAs(f, fm, plaintext, rule, []any{id}), uint8(i), true)
			}
		}
	}
	seed(yamlFormat, secretYAML, nil)
	seed(yamlFormat, secretYAML, dataOnly)
	seed(jsonFormat, `{"kind":"Secret","stringData":{"password":"`+password+`"},"list":[1,{"a":null}]}`, nil)
	seed(dotenvFormat, "PASSWORD="+password+"\nOTHER=x\n", nil)
	seed(iniFormat, "[db]\npassword = "+password+"\n", nil)
	seed(binaryFormat, password+"\x00\xff binary", nil)
	f.Add([]byte("password: ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAA,type:str]\n"), uint8(0), false)
	f.Add([]byte("a: 1\nsops:\n  mac: x\n  version: 3.9.0\n"), uint8(0), true)
	f.Add([]byte(`{"sops":{"age":[{"recipient":"x","enc":"y"}],"mac":"","version":"3"}}`), uint8(1), false)

	f.Fuzz(func(t *testing.T, data []byte, which uint8, checkMAC bool) {
		fm := fuzzFormats[int(which)%len(fuzzFormats)]
		out, err := d.decrypt(data, fm, checkMAC)
		if err != nil {
			if strings.Contains(err.Error(), password) {
				t.Fatalf("the error quotes the plaintext: %v", err)
			}
			return
		}
		if checkMAC && bytes.Contains(data, []byte(sopsMarker)) && !bytes.Contains(out, []byte(password)) {
			t.Fatalf("a %s document passed the MAC check without the secret it was encrypted with:\n%s", fm, out)
		}
	})
}
