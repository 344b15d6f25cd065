module github.com/distsync/distsync

go 1.26.0
