package server_test

import (
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

func keyOf(o client.Object) client.ObjectKey { return client.ObjectKeyFromObject(o) }

func errf(format string, args ...any) error { return fmt.Errorf(format, args...) }
