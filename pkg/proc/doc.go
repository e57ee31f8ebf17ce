// Package proc finds this process's children through /proc (Linux), for the test control plane
// and the local mode, which stop and restart the API server they started.
package proc
