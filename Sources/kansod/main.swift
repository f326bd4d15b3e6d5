print("kansod")
