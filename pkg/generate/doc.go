// Package generate turns a ResourceSet's generators into inputs and renders its template once
// per input. It knows nothing of the API server: inputs come from the spec and from an
// extracted artifact read through an os.Root, and rendering is a Go text/template with a small
// set of functions that cannot reach the environment, files or the network.
package generate
