module github.com/mlxk/mlxk/mlxk-push

go 1.26
