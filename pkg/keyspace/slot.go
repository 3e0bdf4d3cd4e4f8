package keyspace

import (
	"strconv"
	"strings"
	"sync"
)

// Slot is the Redis Cluster hash slot of key: CRC16 (XMODEM) of the key, or of its {hash tag}, mod 16384.
func Slot(key string) uint16 {
	if tag := HashTag(key); tag != "" {
		key = tag
	}
	return crc16(key) % 16384
}

// HashTag is the part of key Redis Cluster hashes: what lies between the first '{' and the first '}' after
// it, when that is not empty; "" when the whole key is hashed.
func HashTag(key string) string {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if e := strings.IndexByte(key[s+1:], '}'); e > 0 {
			return key[s+1 : s+1+e]
		}
	}
	return ""
}

func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

var (
	slotTagsOnce sync.Once
	slotTags     []string
)

// SlotTag returns a short hash tag whose slot is slot: a key holding {tag} lives in that slot.
func SlotTag(slot uint16) string {
	slotTagsOnce.Do(func() {
		slotTags = make([]string, 16384)
		for i, left := 0, 16384; left > 0; i++ {
			t := strconv.Itoa(i)
			if s := crc16(t) % 16384; slotTags[s] == "" {
				slotTags[s] = t
				left--
			}
		}
	})
	return slotTags[slot%16384]
}
