package v1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of this package's kinds.
	GroupVersion = schema.GroupVersion{Group: "sets.weir.dev", Version: "v1"}

	// SchemeBuilder adds this package's kinds to a scheme.
	//lint:ignore SA1019 the kubebuilder layout every Weir API group follows; replacing it is a change to all of them at once
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds this package's kinds to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
