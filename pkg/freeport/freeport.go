// Package freeport finds a loopback TCP port for a process about to be started.
//
// A port the kernel hands out for ":0" lies in its ephemeral range, the same range it uses for
// outgoing connections: between the moment the port is found free and the moment the child
// binds it, any outgoing connection on the machine may take it ("address already in use").
// Ports are therefore drawn below the ephemeral range, where the kernel never assigns one.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
)

// lowest is the first port drawn: below it live well-known services.
const lowest = 10000

// Addr returns "127.0.0.1:<port>" for a port that was free a moment ago, below the ephemeral
// range.
func Addr() (string, error) {
	high := ephemeralLow()
	for range 100 {
		port := lowest + rand.IntN(high-lowest)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		addr := l.Addr().String()
		if err := l.Close(); err != nil {
			return "", err
		}
		return addr, nil
	}
	return "", fmt.Errorf("no free port on 127.0.0.1 between %d and %d", lowest, high)
}

// Port is Addr's port.
func Port() (int, error) {
	addr, err := Addr()
	if err != nil {
		return 0, err
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(port)
}

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's default: 32768).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	var lo, hi int
	if n, _ := fmt.Sscan(string(b), &lo, &hi); n != 2 || lo <= lowest+1000 {
		return 32768
	}
	return lo
}
