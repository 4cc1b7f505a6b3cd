module github.com/mlxk/mlxk/mlxk-clone

go 1.26
