app_name = "dns"
urlpatterns: list = []
