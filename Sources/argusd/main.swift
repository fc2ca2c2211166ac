print("argusd")
