//go:build mistakes

// Mistakes the typed wrapper turns into compile errors. This file is only compiled
// with `go build -tags mistakes`, to see them.
package main

func mistakes(arith *ArithClient) {
	arith.Multiplyy(7, 8)     // misspelt method: no such method
	arith.Multiply("7", 8)    // wrong argument type: a string is not an int
	RegisterArith(BadArith{}) // wrong signature (main.go): not an ArithService
}
