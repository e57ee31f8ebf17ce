package cmd

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"weir.dev/pkg/testenv"
)

func TestUIServesUntilStopped(t *testing.T) {
	port := testenv.FreePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut testenv.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- ExecuteContext(ctx, []string{"--kubeconfig", env.KubeconfigPath, "ui", "--port", fmt.Sprint(port)}, &out, &errOut)
	}()
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	testenv.Eventually(t, time.Minute, func() error {
		if !strings.Contains(out.String(), "Weir UI: "+url) {
			return fmt.Errorf("not announced yet: %q %q", out.String(), errOut.String())
		}
		return nil
	})
	res, err := http.Get(url + "objects")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `id="rows"`) {
		t.Errorf("GET /objects: %d\n%s", res.StatusCode, body)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d: %s", code, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("weir ui did not stop when its context ended")
	}
}

func TestUIExplainsABusyPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	code, _, errOut := weir(t, "ui", "--port", fmt.Sprint(port))
	if code != 1 || !strings.Contains(errOut, fmt.Sprintf("listening on 127.0.0.1:%d", port)) || !strings.Contains(errOut, "address already in use") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}
