package freeport

import (
	"net"
	"testing"
)

func TestAddrIsFreeAndBelowTheEphemeralRange(t *testing.T) {
	for range 20 {
		addr, err := Addr()
		if err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("%s is not free: %v", addr, err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		if port < lowest || port >= ephemeralLow() {
			t.Errorf("port %d outside [%d, %d)", port, lowest, ephemeralLow())
		}
	}
	if p, err := Port(); err != nil || p < lowest {
		t.Errorf("Port() = %d, %v", p, err)
	}
}
