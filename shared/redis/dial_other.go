//go:build !linux

package redis

import "syscall"

// setUserTimeout does nothing where TCP_USER_TIMEOUT is not known: there,
// a vanished Redis is noticed when TCP gives up.
func setUserTimeout(string, string, syscall.RawConn) error { return nil }
