package data

import (
	"strings"
	"testing"
)

// Specs parse to the ops torchvision's classes make, print back in the
// same syntax, and bad ones fail with a message saying why.
func TestParseTransform(t *testing.T) {
	for _, c := range []struct{ spec, want string }{
		{"Resize(256), CenterCrop(224), Normalize(imagenet)", "Resize(256), CenterCrop(224), Normalize(imagenet)"},
		{"transforms.Resize(size=(13,29))", "Resize(13, 29)"},
		{"RandomResizedCrop(224)\nRandomHorizontalFlip() # train\nToTensor()", "RandomResizedCrop(224, 224, scale=[0.08,1], ratio=[0.75,1.3333333333333333]), RandomHorizontalFlip(0.5)"},
		{"RandomCrop(32, padding=4); Normalize(mean=[0.4914,0.4822,0.4465], std=[0.247,0.2435,0.2616])", "RandomCrop(32, 32, padding=4), Normalize(cifar10)"},
		{"RandomCrop(28, padding=[1,2])", "RandomCrop(28, 28, padding=[1,2,1,2])"},
		{"Grayscale(3), Normalize(0.5, 0.25)", "Grayscale(3), Normalize(mean=[0.5], std=[0.25])"},
		{"", ""},
	} {
		tf, err := ParseTransform(c.spec)
		if err != nil {
			t.Errorf("%q: %v", c.spec, err)
			continue
		}
		if got := tf.String(); got != c.want {
			t.Errorf("%q: %q, want %q", c.spec, got, c.want)
		}
	}
	for _, c := range []struct{ spec, want string }{
		{"Rotate(30)", "unknown transform"},
		{"Resize()", "needs a size"},
		{"Resize(0)", "whole number"},
		{"Resize(9000)", "whole number"},
		{"CenterCrop(2.5)", "whole number"},
		{"CenterCrop(3, 4, 5)", "more than"},
		{"Resize(256, interpolation=nearest)", "only bilinear"},
		{"RandomHorizontalFlip(p=2)", "want [0, 1]"},
		{"Grayscale(2)", "1 or 3"},
		{"Normalize(nope)", "preset"},
		{"Normalize(mean=[0.5])", "needs mean and std"},
		{"Normalize(imagenet), Resize(3)", "Normalize comes last"},
		{"RandomResizedCrop(8, scale=[0.5, 0.1])", "scale"},
		{"Resize(8, foo=1)", "unknown argument foo"},
		{"Resize((8)", "unbalanced"},
	} {
		if _, err := ParseTransform(c.spec); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want an error with %q", c.spec, err, c.want)
		}
	}
}
