// Package drift finds how a live object differs from the state a controller applied, and who
// changed it: the paths of desired fields whose live value differs (a Secret's stringData
// compared as the data the API server stores), the field manager that owns each such path
// according to managedFields, and the formatting of paths for events. It also removes the
// fields users excluded from comparison (JSON Pointers, for objects a selector matches).
//
// Only paths are ever reported, never values, so a report about a Secret leaks nothing. The
// package is pure: it reads objects given to it and calls no API.
package drift
