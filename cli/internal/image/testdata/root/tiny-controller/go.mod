module weir.test/tiny-controller

go 1.26.0
