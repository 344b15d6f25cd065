module github.com/distsync/distsync

go 1.26.0

require github.com/govalues/decimal v0.1.36 // indirect
