package pacrypto

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"strconv"
	"strings"
)

// crc16ARC is CRC-16/ARC (poly 0x8005 reflected, init 0).
func crc16ARC(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xA001
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}

// NewActivationCode is Activation-Code.md: 10 random bytes and their CRC-16/ARC, Base32, four groups of five.
func NewActivationCode() string {
	b := randomBytes(12)
	binary.BigEndian.PutUint16(b[10:], crc16ARC(b[:10]))
	s := base32.StdEncoding.EncodeToString(b)[:20]
	return s[0:5] + "-" + s[5:10] + "-" + s[10:15] + "-" + s[15:20]
}

// ValidActivationCode checks length, alphabet and CRC.
func ValidActivationCode(code string) bool {
	if len(code) != 23 || code[5] != '-' || code[11] != '-' || code[17] != '-' {
		return false
	}
	b, err := base32.StdEncoding.DecodeString(strings.ReplaceAll(code, "-", "") + "====")
	if err != nil || len(b) != 12 {
		return false
	}
	return crc16ARC(b[:10]) == binary.BigEndian.Uint16(b[10:])
}

// Fingerprint is the 8-digit public key fingerprint of protocol 3: over the device key's X coordinate, the
// activation id and the server key's X coordinate. The coordinates are BigInteger magnitudes: leading zero bytes
// dropped (a published vector has a 31-byte X).
func Fingerprint(devicePub, serverPub []byte, activationID string) string {
	var data []byte
	data = append(data, bytes.TrimLeft(devicePub[1:33], "\x00")...)
	data = append(data, activationID...)
	data = append(data, bytes.TrimLeft(serverPub[1:33], "\x00")...)
	h := sha256.Sum256(data)
	n := (binary.BigEndian.Uint32(h[len(h)-4:]) & 0x7fffffff) % 100000000
	return leftPad8(strconv.FormatUint(uint64(n), 10))
}

func leftPad8(s string) string {
	for len(s) < 8 {
		s = "0" + s
	}
	return s
}
