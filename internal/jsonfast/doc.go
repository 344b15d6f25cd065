// Package jsonfast holds the machinery of distsync's JSON fast paths: a
// [Writer] that appends the bytes json.Marshal would produce for the
// members it is given, without reflection, and [AppendString], the string
// escaping of encoding/json. The business packages (canonical, flow) keep
// only the shape of their documents; the bytes are written here.
//
// Nothing here is API: the package is internal to the module.
package jsonfast
