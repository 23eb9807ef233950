package export

import (
	"github.com/loyal-ledger/loyal/chain"
)

// Magic opens every export file; Version is the format version this package writes and reads.
const (
	Magic   = "LOYALEXP"
	Version = 1
)

// Record tags.
const (
	tagGenesis     = 'G'
	tagBlock       = 'B'
	tagCertificate = 'C'
	tagEnd         = 'E'
)

// recordHeader is a record's tag and length.
const recordHeader = 1 + 4

// maxGenesisBytes bounds the genesis record: a genesis lists partners, validators and
// programs, a few KiB for a large coalition.
const maxGenesisBytes = 4 << 20

// maxBlockRecord is the longest block record a chain of these params may hold: the block
// itself (MaxBlockBytes bounds chain.Block.Size) plus its parent's certificate, which
// Size counts too, with room for the encoding's own framing.
func maxBlockRecord(p chain.Params) int { return p.MaxBlockBytes + 64<<10 }

// maxCertificateRecord bounds the final certificate record: a certificate of the largest
// validator set.
var maxCertificateRecord = chain.CommitSize(chain.MaxValidators)

// endRecord is the length of the end record's payload: the last height.
const endRecord = 8

// ErrBadExport is a file that is not a well-formed export: wrong magic or version, a record
// out of place, too long or cut short, heights not consecutive, no end or bytes after it.
var ErrBadExport = &chain.Error{Code: "bad_export", Msg: "not a well-formed chain export"}
