// Package jsonfast holds the machinery of distsync's JSON fast paths, so
// that the business packages (canonical, flow) keep only the shape of
// their documents:
//
//   - [Writer] appends the bytes json.Marshal would produce for the members
//     it is given, without reflection; [AppendString] is the string
//     escaping of encoding/json.
//   - [Reader] reads the form those encoders write, member by member, and
//     refuses anything else, so that its caller can hand the input to
//     encoding/json, which then decides the result and the errors.
//   - [Valid] is json.Valid without its per-byte state machine; [Scanner],
//     [Unquote], [Compact] and [Kind] take valid JSON apart member by
//     member, for decoders stricter than encoding/json (the CloudEvents
//     envelope).
//
// internal/jsongen generates the per-type code that drives Writer and
// Reader. Nothing here is API: the package is internal to the module.
package jsonfast
