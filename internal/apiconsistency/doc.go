// Package apiconsistency holds tests that check one spelling for each idea
// across the module's packages: the same name for the same concept, so a
// reader who learned one package has learned the others. It has no API.
package apiconsistency
